using Xmc.Training.Cli;

namespace Xmc.Training;

/// <summary>Entry point of the <c>xmc</c> console trainer.</summary>
public static class Program
{
    public static int Main(string[] args) => XmcCli.Run(args);
}

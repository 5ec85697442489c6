namespace Xmc.Training;

/// <summary>Entry point of the <c>xmc</c> console trainer.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("xmc: the trainer is not built yet");
        return 0;
    }
}

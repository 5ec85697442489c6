namespace Xmc.Bench;

/// <summary>Entry point of the benchmark suites.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("no suites yet");
        return 0;
    }
}

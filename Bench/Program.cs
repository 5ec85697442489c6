namespace Xmc.Bench;

/// <summary>Entry point of the benchmark suites.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["tokenizer", ..])
        {
            return TokenizerSuite.Run();
        }
        Console.WriteLine("suites: tokenizer");
        return 0;
    }
}

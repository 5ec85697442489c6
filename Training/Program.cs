namespace Xmc.Training;

/// <summary>Entry point of the <c>xmc</c> console trainer.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "train")
        {
            // Until the XMC trainer lands, `train` runs the engine demo.
            EngineDemo.Run(EngineDemo.DefaultSteps, Console.Out);
            return 0;
        }
        Console.Error.WriteLine("usage: xmc train");
        return 2;
    }
}

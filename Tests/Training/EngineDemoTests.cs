using Xmc.Training;

namespace Xmc.Tests.Training;

public class EngineDemoTests
{
    // The smoke run's job (xmc demo): a short run must already beat chance (1/6) by far and cut the loss from its
    // starting value (≈ 3 for the initial random network) to well under 1.
    [Fact]
    public void Short_run_learns_the_clusters()
    {
        var log = new StringWriter();
        var (loss, accuracy) = EngineDemo.Run(120, log);
        Assert.True(loss < 0.5, $"final loss {loss}\n{log}");
        Assert.True(accuracy > 0.9, $"test accuracy {accuracy}\n{log}");
        Assert.Contains("step    1", log.ToString());
    }
}

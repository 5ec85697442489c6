using Xmc.Training.Config;
using Xmc.Training.Distributed;

namespace Xmc.Tests.Distributed;

/// <summary>What a run of several ranks refuses before it starts, naming the field.</summary>
public class DistributedRunTests
{
    [Theory]
    [InlineData("model.encoder=bert", "model.encoder")]
    [InlineData("model.auxClusters=5", "model.auxClusters")]
    [InlineData("model.hiddenDropout=0.1", "model.inputDropout/hiddenDropout")]
    [InlineData("dst.algorithm=gse", "dst.algorithm")]
    [InlineData("data.validation=0.1", "data.validation")]
    [InlineData("run.savePredictions=true", "run.savePredictions")]
    public void Unsupported_settings_are_refused_naming_the_field(string setting, string field)
    {
        var config = ConfigLoader.Load(null, [setting]);
        var e = Assert.Throws<ConfigException>(() => DistributedRun.CheckConfig(config, 2));
        Assert.StartsWith($"config field {field}:", e.Message);
        Assert.Contains("in a run of 2 ranks", e.Message);
    }

    [Fact]
    public void The_default_config_is_accepted() => DistributedRun.CheckConfig(ConfigLoader.Load(null, []), 4);
}

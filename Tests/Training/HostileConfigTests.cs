using Xmc.Training.Cli;
using Xmc.Training.Config;

namespace Xmc.Tests.Training;

/// <summary>Configs and flags a hostile user gives <c>xmc train</c> (issue 19): each is a clear error with exit
/// code 2 naming the field or option, or works — never a stack trace or a silent fallback.</summary>
[Collection(LedgerCollection.Name)]
public sealed class HostileConfigTests
{
    [Theory]
    [InlineData("optim.headLr", "--set", "optim.headLr=1e400")]
    [InlineData("--device: an empty value", "--device", "")]
    [InlineData("run.device", "--set", "run.device=")]
    [InlineData("1e99GiB", "--device-memory-limit", "1e99GiB")]
    [InlineData("run.deviceMemoryLimit", "--device-memory-limit", "0")]
    [InlineData("--out: an empty value", "--out", "")]
    [InlineData("--out: an empty value", "--out", "  ")]
    [InlineData("--data: an empty value", "--data", "")]
    [InlineData("--test: an empty value", "--test", "")]
    [InlineData("--resume: an empty value", "--resume", "")]
    [InlineData("run.output", "--set", "run.output=\" \"")]
    [InlineData("data.train", "--set", "data.train=\"\"")]
    public void A_bad_value_is_exit_code_2_naming_it(string named, string option, string value)
    {
        var (code, err) = ExitCodeTests.Run("train", option, value, "--print-config");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(named, err);
    }

    [Theory]
    [InlineData("{\"optim\": null}", "optim")]
    [InlineData("{\"run\": null, \"model\": {\"hidden\": 8}}", "run")]
    [InlineData("{\"data\": null}", "data")]
    public void A_null_section_is_exit_code_2_naming_it(string json, string section)
    {
        var file = Path.Combine(ExitCodeTests.TempDir(), "c.json");
        File.WriteAllText(file, json);
        var (code, err) = ExitCodeTests.Run("train", "--config", file, "--print-config");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains($"config section {section} is null", err);
        Assert.Contains(file, err);
        // and with an override after it (which rewrites the sections)
        (code, err) = ExitCodeTests.Run("train", "--config", file, "--set", $"{section}.x=1", "--print-config");
        Assert.Equal(ExitCodes.BadInput, code);
    }

    [Theory]
    [InlineData("268435456", 268435456L)]
    [InlineData("12e9", 12_000_000_000L)]
    [InlineData("1.5GiB", 1_610_612_736L)]
    [InlineData("512MiB", 536_870_912L)]
    public void A_memory_limit_is_a_size_or_a_plain_byte_count(string text, long bytes)
    {
        var output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["train", "--device-memory-limit", text, "--print-config"], output, output));
        Assert.Equal(bytes, ConfigLoader.FromJson(output.ToString(), "printed", []).Run.DeviceMemoryLimit!.Value.Bytes);
        // the same through --set, where the value is a JSON number
        output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["train", "--set", $"run.deviceMemoryLimit={text}", "--print-config"], output, output));
        Assert.Equal(bytes, ConfigLoader.FromJson(output.ToString(), "printed", []).Run.DeviceMemoryLimit!.Value.Bytes);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_synthetic_set_with_one_or_two_labels_trains(int labels)
    {
        var run = Path.Combine(ExitCodeTests.TempDir(), "run");
        var output = new StringWriter();
        int code = XmcCli.Run(["train", "--set", $"data.syntheticLabels={labels}", "--set", "data.syntheticPoints=200", "--set", "data.syntheticFeatures=40",
            "--set", "model.hidden=16", "--set", "model.fanIn=4", "--epochs", "1", "--out", run], output, output);
        Assert.True(code == 0, output.ToString());
        Assert.Contains("test: P@1", output.ToString());
    }

    [Fact]
    public void A_synthetic_set_too_small_for_its_generator_is_a_config_error()
    {
        var (code, err) = ExitCodeTests.Run("train", "--set", "data.syntheticFeatures=2", "--set", "model.hidden=16", "--set", "model.fanIn=4", "--out", Path.Combine(ExitCodeTests.TempDir(), "run"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("data.synthetic", err);
    }
}

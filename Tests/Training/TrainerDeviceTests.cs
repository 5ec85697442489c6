using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Native;
using Xmc.Training.Cli;

namespace Xmc.Tests.Training;

/// <summary><c>xmc train --device cuda</c> on a machine where CUDA cannot be used: a message naming what was
/// searched and the way out, the bad-input exit code, and no run folder.</summary>
public class TrainerDeviceTests
{
    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:1")]
    public void Cuda_without_a_usable_device_exits_with_a_clear_message(string device)
    {
        if (CudaLibraries.TryLoad(CudaLibrary.Driver, out var driver, out _) && HasDevice())
        {
            Assert.Skip($"a CUDA driver ({driver.Path}) and device are present; Tests/Cuda/CudaTrainingTests covers training there");
        }
        var dir = Path.Combine(Path.GetTempPath(), $"xmc-device-test-{Guid.NewGuid():N}");
        var output = new StringWriter();
        int rc = XmcCli.Run(["train", "--device", device, "--device-memory-limit", "1GiB", "--out", dir], output, output);
        var text = output.ToString();
        Assert.Equal(XmcCli.BadInput, rc);
        Assert.Contains("--device cpu", text);
        // Whatever is missing, the message says where it looked (the driver's search list, or the driver's own report).
        Assert.True(text.Contains("libcuda.so.1", StringComparison.Ordinal) || text.Contains("driver (", StringComparison.Ordinal), text);
        Assert.False(Directory.Exists(dir), "a run that cannot start must not leave a run folder");
    }

    private static bool HasDevice()
    {
        try
        {
            return CudaContext.DeviceCount() > 0;
        }
        catch (CudaUnavailableException)
        {
            return false;
        }
    }
}

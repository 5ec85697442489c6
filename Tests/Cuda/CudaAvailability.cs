using Xmc.Engine.Cuda.Native;

namespace Xmc.Tests.Cuda;

/// <summary>Skips a test, with the places searched as the reason, when a CUDA library is not on this machine.</summary>
internal static class CudaAvailability
{
    public static void SkipUnlessLoadable(CudaLibrary library)
    {
        if (!CudaLibraries.TryLoad(library, out _, out var searched))
        {
            Assert.Skip($"{library} library not found on this machine; searched: {string.Join("; ", searched)}{CudaEmulatorSetup.Why}");
        }
    }
}

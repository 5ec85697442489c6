using System.Runtime.InteropServices;

namespace Xmc.Engine.Cuda.Native;

/// <summary><c>nvrtcResult</c>: NVRTC's status codes (names for all come from <c>nvrtcGetErrorString</c>).</summary>
public enum NvrtcResult
{
    Success = 0,
    OutOfMemory = 1,
    ProgramCreationFailure = 2,
    InvalidInput = 3,
    InvalidProgram = 4,
    InvalidOption = 5,
    Compilation = 6,
}

/// <summary>The NVRTC entry points the engine uses (all present since NVRTC 11.2).</summary>
internal static unsafe partial class Nvrtc
{
    static Nvrtc() => CudaLibraries.InstallResolver();

    private const string Lib = CudaLibraries.NvrtcImport;

    [LibraryImport(Lib)] internal static partial NvrtcResult nvrtcVersion(out int major, out int minor);
    [LibraryImport(Lib)] internal static partial nint nvrtcGetErrorString(NvrtcResult result);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial NvrtcResult nvrtcCreateProgram(out nint program, string source, string name,
        int headerCount, byte** headers, byte** includeNames);

    [LibraryImport(Lib)] internal static partial NvrtcResult nvrtcCompileProgram(nint program, int optionCount, byte** options);
    [LibraryImport(Lib)] internal static partial NvrtcResult nvrtcGetProgramLogSize(nint program, out nuint bytes);
    [LibraryImport(Lib)] internal static partial NvrtcResult nvrtcGetProgramLog(nint program, byte* log);
    [LibraryImport(Lib)] internal static partial NvrtcResult nvrtcGetPTXSize(nint program, out nuint bytes);
    [LibraryImport(Lib)] internal static partial NvrtcResult nvrtcGetPTX(nint program, byte* ptx);
    [LibraryImport(Lib)] internal static partial NvrtcResult nvrtcGetCUBINSize(nint program, out nuint bytes);
    [LibraryImport(Lib)] internal static partial NvrtcResult nvrtcGetCUBIN(nint program, byte* cubin);
    [LibraryImport(Lib)] internal static partial NvrtcResult nvrtcDestroyProgram(ref nint program);
    [LibraryImport(Lib)] internal static partial NvrtcResult nvrtcGetNumSupportedArchs(out int count);
    [LibraryImport(Lib)] internal static partial NvrtcResult nvrtcGetSupportedArchs(int* archs);
}

namespace Xmc.Engine.Cuda.Compilation;

/// <summary>NVRTC rejected a kernel file. The message carries NVRTC's log, whose lines name the file and line
/// (<c>binary.cu(12): error: ...</c>).</summary>
public sealed class KernelCompilationException : Exception
{
    public KernelCompilationException(string sourceName, string target, string nvrtcVersion, IReadOnlyList<string> options, string log)
        : base($"NVRTC {nvrtcVersion} could not compile {sourceName} for {target} (options: {string.Join(" ", options)}):\n{log.TrimEnd()}")
    {
        SourceName = sourceName;
        Log = log;
    }

    public KernelCompilationException() : base("a kernel did not compile") { }

    public KernelCompilationException(string message) : base(message) { }

    public KernelCompilationException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The .cu file that failed.</summary>
    public string SourceName { get; } = "";

    /// <summary>NVRTC's full log.</summary>
    public string Log { get; } = "";
}

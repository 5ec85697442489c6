using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;

namespace Xmc.Bench.Gpu;

/// <summary>One GEMM for the PyTorch peer: row-major C[batch, m, n] = op(A)·op(B) in the given math
/// ("fp32", "tf32" or "bf16"), timed as <paramref name="Inner"/> back-to-back calls.</summary>
public sealed record GemmPeerCase(string Name, int Batch, int M, int K, int N, bool TransA, bool TransB, string Math, int Inner);

/// <summary>One row or element-wise kernel for the PyTorch peer over a [rows, cols] float32 matrix, timed as
/// <paramref name="Inner"/> back-to-back calls. Ops: softmax_fwd, softmax_bwd, layernorm_fwd, layernorm_bwd,
/// gelu_fwd, gelu_bwd, add, f32_to_bf16, bf16_to_f32.</summary>
public sealed record OpsPeerCase(string Name, string Op, int Rows, int Cols, int Inner);

/// <summary>What the peer measured: best seconds per call by case name, and the cases it could not run with why.</summary>
public sealed record TorchGpuPeerResult(string Torch, string Cuda, string Gpu,
    IReadOnlyDictionary<string, double> Seconds, IReadOnlyDictionary<string, string> Errors);

/// <summary>The PyTorch yardstick of the gpu-* suites: <c>scripts/torch_gpu_peer.py</c>, run as a child process
/// on the same GPU after our own measurements. It reads a JSON request on stdin and prints one JSON object
/// (<see cref="TorchGpuPeerResult"/>). Anything that stops it (no Python, no torch, no CUDA in torch, a crash)
/// becomes a reason, never an exception: the suite then reports its own figures without the torch column.</summary>
public static class TorchGpuPeer
{
    /// <summary>Environment variable naming the peer script.</summary>
    public const string ScriptVariable = "XMC_TORCH_GPU_PEER";

    /// <summary>Environment variable naming the Python interpreter (default <c>python3</c>).</summary>
    public const string PythonVariable = "XMC_PYTHON";

    private const string ScriptName = "torch_gpu_peer.py";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The interpreter: <c>$XMC_PYTHON</c>, else <c>python3</c>.</summary>
    public static string Python =>
        Environment.GetEnvironmentVariable(PythonVariable) is { Length: > 0 } python ? python : "python3";

    /// <summary>The peer script: <c>$XMC_TORCH_GPU_PEER</c>, else <c>torch_gpu_peer.py</c> next to the executable
    /// (the GPU bundle's layout), else <c>scripts/torch_gpu_peer.py</c> under <paramref name="repoRoot"/>; null when
    /// none exists.</summary>
    public static string? FindScript(string repoRoot)
    {
        if (Environment.GetEnvironmentVariable(ScriptVariable) is { Length: > 0 } named)
        {
            return File.Exists(named) ? Path.GetFullPath(named) : null;
        }
        foreach (var candidate in new[] { Path.Combine(AppContext.BaseDirectory, ScriptName), Path.Combine(repoRoot, "scripts", ScriptName) })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>The request for GEMM cases, as the script reads it.</summary>
    public static string GemmRequest(IEnumerable<GemmPeerCase> cases, int repetitions) =>
        JsonSerializer.Serialize(new { Kind = "gemm", Repetitions = repetitions, Cases = cases.ToArray() }, Json);

    /// <summary>The request for row and element-wise cases, as the script reads it.</summary>
    public static string OpsRequest(IEnumerable<OpsPeerCase> cases, int repetitions) =>
        JsonSerializer.Serialize(new { Kind = "ops", Repetitions = repetitions, Cases = cases.ToArray() }, Json);

    /// <summary>Finds the script (<see cref="FindScript"/>), runs it on <paramref name="request"/> under
    /// <see cref="Python"/> and prints one line saying what answered (torch and CUDA versions, GPU) or why nothing
    /// did. Null when the peer is unavailable.</summary>
    public static TorchGpuPeerResult? RunAndDescribe(string request, string repoRoot)
    {
        var script = FindScript(repoRoot);
        if (script is null)
        {
            Console.WriteLine($"peer unavailable: no {ScriptName} found (set {ScriptVariable} to its path)");
            return null;
        }
        Console.WriteLine($"peer: {Python} {script} ...");
        var result = Run(Python, script, request, TimeSpan.FromMinutes(5), out var unavailable);
        Console.WriteLine(result is null
            ? $"peer unavailable: {unavailable}"
            : $"peer: torch {result.Torch}, CUDA {result.Cuda}, {result.Gpu}");
        return result;
    }

    /// <summary>Runs <paramref name="script"/> under <paramref name="python"/> with <paramref name="request"/> on
    /// stdin. Returns the result, or null and the reason the peer is unavailable (the interpreter missing, a
    /// non-zero exit with the end of its stderr, no JSON on stdout, or no answer within <paramref name="timeout"/>).</summary>
    public static TorchGpuPeerResult? Run(string python, string script, string request, TimeSpan timeout, out string? unavailable)
    {
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception e)
        {
            unavailable = $"cannot start {python} ({e.Message}); set {PythonVariable} to a Python with torch";
            return null;
        }
        if (process is null)
        {
            unavailable = $"cannot start {python}";
            return null;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            try
            {
                process.StandardInput.Write(request);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The peer exited before reading its request; its exit status and stderr say why.
            }
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                unavailable = $"{script} gave no answer within {timeout.TotalSeconds:F0} s";
                return null;
            }
            process.WaitForExit(); // the redirected streams are complete only after this overload returns
            if (process.ExitCode != 0)
            {
                unavailable = $"{script} exited with status {process.ExitCode}: {LastLines(stderr.Result, 3)}";
                return null;
            }
            return Parse(stdout.Result, script, out unavailable);
        }
    }

    /// <summary>Reads the peer's answer: the last non-empty line of its stdout, a JSON object with
    /// <c>torch</c>, <c>cuda</c>, <c>gpu</c>, <c>seconds</c> and <c>errors</c>. Null and the reason when it is not one.</summary>
    public static TorchGpuPeerResult? Parse(string stdout, string source, out string? unavailable)
    {
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (line is null)
        {
            unavailable = $"{source} printed nothing";
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var seconds = new Dictionary<string, double>();
            foreach (var p in root.GetProperty("seconds").EnumerateObject())
            {
                seconds[p.Name] = p.Value.GetDouble();
            }
            var errors = new Dictionary<string, string>();
            if (root.TryGetProperty("errors", out var errorsElement))
            {
                foreach (var p in errorsElement.EnumerateObject())
                {
                    errors[p.Name] = p.Value.GetString() ?? "";
                }
            }
            unavailable = null;
            return new TorchGpuPeerResult(Text(root, "torch"), Text(root, "cuda"), Text(root, "gpu"), seconds, errors);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            unavailable = $"{source} printed no result object ({e.Message}): {Shorten(line)}";
            return null;
        }
    }

    private static string Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : "unknown";

    private static string LastLines(string text, int count)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no stderr)" : string.Join(" | ", lines.TakeLast(count));
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";
}

using System.Text.Json;
using System.Text.RegularExpressions;
using Xmc.Bench.Gpu;

namespace Xmc.Tests.Bench;

/// <summary>The gpu-* suites' PyTorch peer plumbing without torch or a GPU: the request matches what
/// scripts/torch_gpu_peer.py reads, the answer is parsed, and every way the peer can fail becomes a reason.</summary>
public class TorchGpuPeerTests
{
    [Fact]
    public void Gemm_request_carries_every_case_field_and_the_script_reads_them()
    {
        var request = TorchGpuPeer.GemmRequest([new GemmPeerCase("scores", 384, 128, 64, 256, false, true, "tf32", 7)], 5);
        using var doc = JsonDocument.Parse(request);
        var root = doc.RootElement;
        Assert.Equal("gemm", root.GetProperty("kind").GetString());
        Assert.Equal(5, root.GetProperty("repetitions").GetInt32());
        var c = Assert.Single(root.GetProperty("cases").EnumerateArray().ToList());
        Assert.Equal("scores", c.GetProperty("name").GetString());
        Assert.Equal(384, c.GetProperty("batch").GetInt32());
        Assert.Equal(128, c.GetProperty("m").GetInt32());
        Assert.Equal(64, c.GetProperty("k").GetInt32());
        Assert.Equal(256, c.GetProperty("n").GetInt32());
        Assert.False(c.GetProperty("trans_a").GetBoolean());
        Assert.True(c.GetProperty("trans_b").GetBoolean());
        Assert.Equal("tf32", c.GetProperty("math").GetString());
        Assert.Equal(7, c.GetProperty("inner").GetInt32());
        AssertScriptReads(root, c);
    }

    [Fact]
    public void Ops_request_carries_every_case_field_and_the_script_reads_them()
    {
        var request = TorchGpuPeer.OpsRequest([new OpsPeerCase("add_3x5", "add", 3, 5, 11)], 2);
        using var doc = JsonDocument.Parse(request);
        var root = doc.RootElement;
        Assert.Equal("ops", root.GetProperty("kind").GetString());
        var c = Assert.Single(root.GetProperty("cases").EnumerateArray().ToList());
        Assert.Equal("add", c.GetProperty("op").GetString());
        Assert.Equal(3, c.GetProperty("rows").GetInt32());
        Assert.Equal(5, c.GetProperty("cols").GetInt32());
        Assert.Equal(11, c.GetProperty("inner").GetInt32());
        AssertScriptReads(root, c);
        // Every op the suite can ask for is one the script knows.
        var script = File.ReadAllText(PeerScript());
        foreach (var op in new[] { "softmax_fwd", "softmax_bwd", "layernorm_fwd", "layernorm_bwd", "gelu_fwd", "gelu_bwd", "add", "f32_to_bf16", "bf16_to_f32" })
        {
            Assert.Contains($"op == \"{op}\"", script);
        }
    }

    [Fact]
    public void Answer_is_the_last_line_with_seconds_errors_and_versions()
    {
        var stdout = "loading...\n{\"torch\": \"2.9.0\", \"cuda\": \"13.0\", \"gpu\": \"NVIDIA H100\", "
            + "\"seconds\": {\"a\": 0.00125, \"b\": 2e-5}, \"errors\": {\"c\": \"RuntimeError: boom\"}}\n\n";
        var result = TorchGpuPeer.Parse(stdout, "peer.py", out var unavailable);
        Assert.Null(unavailable);
        Assert.NotNull(result);
        Assert.Equal(("2.9.0", "13.0", "NVIDIA H100"), (result.Torch, result.Cuda, result.Gpu));
        Assert.Equal(0.00125, result.Seconds["a"]);
        Assert.Equal(2e-5, result.Seconds["b"]);
        Assert.Equal("RuntimeError: boom", result.Errors["c"]);
        Assert.False(result.Seconds.ContainsKey("c"));
    }

    [Theory]
    [InlineData("", "printed nothing")]
    [InlineData("Traceback (most recent call last):\nSystemExit: torch sees no CUDA device", "printed no result object")]
    [InlineData("{\"torch\": \"2.9.0\"}", "printed no result object")]
    public void Output_without_a_result_object_is_a_reason(string stdout, string expected)
    {
        Assert.Null(TorchGpuPeer.Parse(stdout, "peer.py", out var unavailable));
        Assert.Contains(expected, unavailable);
        Assert.Contains("peer.py", unavailable);
    }

    [Fact]
    public void Run_passes_the_request_on_stdin_and_reads_the_answer()
    {
        using var dir = new TempDir();
        var received = Path.Combine(dir.Path, "request.json");
        var script = dir.Script("peer.sh", $"cat > '{received}'\necho '{{\"torch\": \"t\", \"cuda\": \"c\", \"gpu\": \"g\", \"seconds\": {{\"x\": 0.5}}}}'\n");
        var request = TorchGpuPeer.OpsRequest([new OpsPeerCase("x", "add", 1, 1, 1)], 1);
        var result = TorchGpuPeer.Run("sh", script, request, TimeSpan.FromSeconds(30), out var unavailable);
        Assert.True(result is not null, unavailable);
        Assert.Equal(0.5, result.Seconds["x"]);
        Assert.Empty(result.Errors);
        Assert.Equal(request, File.ReadAllText(received));
    }

    [Fact]
    public void A_failing_peer_is_a_reason_with_its_exit_status_and_stderr()
    {
        using var dir = new TempDir();
        var script = dir.Script("peer.sh", "echo \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 3\n");
        Assert.Null(TorchGpuPeer.Run("sh", script, "{}", TimeSpan.FromSeconds(30), out var unavailable));
        Assert.Contains("exited with status 3", unavailable);
        Assert.Contains("No module named 'torch'", unavailable);
    }

    [Fact]
    public void A_missing_interpreter_is_a_reason_naming_the_variable_to_set()
    {
        Assert.Null(TorchGpuPeer.Run("/nonexistent/python-for-xmc-tests", "peer.py", "{}", TimeSpan.FromSeconds(30), out var unavailable));
        Assert.Contains("cannot start /nonexistent/python-for-xmc-tests", unavailable);
        Assert.Contains(TorchGpuPeer.PythonVariable, unavailable);
    }

    [Fact]
    public void A_peer_that_never_answers_is_stopped_at_the_timeout()
    {
        using var dir = new TempDir();
        var script = dir.Script("peer.sh", "sleep 60\n");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Null(TorchGpuPeer.Run("sh", script, "{}", TimeSpan.FromSeconds(1), out var unavailable));
        Assert.Contains("no answer within 1 s", unavailable);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    /// <summary>Each request and case field appears in the script as a lookup (<c>["key"]</c> or <c>.get("key"</c>).</summary>
    private static void AssertScriptReads(JsonElement request, JsonElement firstCase)
    {
        var script = File.ReadAllText(PeerScript());
        var read = Regex.Matches(script, "(?:\\[\"|\\.get\\(\")([a-z_]+)\"").Select(m => m.Groups[1].Value).ToHashSet();
        foreach (var field in request.EnumerateObject().Concat(firstCase.EnumerateObject()).Select(p => p.Name))
        {
            Assert.True(read.Contains(field), $"torch_gpu_peer.py never reads \"{field}\"; it reads: {string.Join(", ", read.Order())}");
        }
    }

    /// <summary>scripts/torch_gpu_peer.py of the repository the tests were built from, or the bundle's copy next to
    /// the test executable.</summary>
    private static string PeerScript()
    {
        var bundled = Path.Combine(AppContext.BaseDirectory, "torch_gpu_peer.py");
        if (File.Exists(bundled))
        {
            return bundled;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scripts", "torch_gpu_peer.py");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"scripts/torch_gpu_peer.py not found above {AppContext.BaseDirectory}");
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("xmc-peer-test-").FullName;

        public string Script(string name, string text)
        {
            var path = System.IO.Path.Combine(Path, name);
            File.WriteAllText(path, text);
            return path;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

using Xmc.Engine;
using Xmc.Models.Bert;
using Xmc.Models.IO;

namespace Xmc.Tests.Models;

/// <summary>Compares the encoder with Hugging Face transformers on the files written by
/// <c>scripts/hf_parity.py</c>, found through the environment variable <c>XMC_HF_PARITY_DIR</c>.</summary>
public class HfParityTests(ITestOutputHelper output)
{
    private const string DirectoryVariable = "XMC_HF_PARITY_DIR";

    // Tolerances (fp32 both sides, different summation orders): outputs are O(1) after LayerNorm, so max abs
    // error ≤ 1e-4; gradients are compared relative to the largest reference entry of each tensor, ≤ 1e-3.
    private const double OutputTolerance = 1e-4;
    private const double GradientTolerance = 1e-3;

    [Fact]
    public void Encoder_matches_transformers_outputs_and_gradients()
    {
        var dir = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (string.IsNullOrEmpty(dir))
        {
            Assert.Skip($"{DirectoryVariable} is not set: run scripts/hf_parity.py --out DIR where torch and transformers are installed, then set {DirectoryVariable}=DIR");
        }
        var parityPath = Path.Combine(dir, "parity.safetensors");
        Assert.True(File.Exists(parityPath), $"{DirectoryVariable}={dir} has no parity.safetensors (written by scripts/hf_parity.py)");

        using var scope = TensorScope.Begin();
        var loaded = BertCheckpoint.Load(dir);
        using var model = loaded.Model;
        output.WriteLine($"checkpoint: {loaded.Report}");
        Assert.Empty(loaded.Report.Missing);

        using var file = SafetensorsFile.Open(parityPath);
        Tensor Read(string name, DType dtype) => Track(file.Load(name, dtype, Device.Default, Xmc.Engine.Memory.MemoryCategory.Data));
        var ids = Read("input_ids", DType.Int32);
        var mask = Read("attention_mask", DType.Int32);
        var types = Read("token_type_ids", DType.Int32);
        var result = model.Forward(ids, mask, types);

        Compare("last_hidden_state", result.LastHiddenState, Read("last_hidden_state", DType.Float32), OutputTolerance, relativeToMax: false);
        Compare("pooler_output", result.PoolerOutput!, Read("pooler_output", DType.Float32), OutputTolerance, relativeToMax: false);

        var f = Ops.Add(Ops.Sum(Ops.Mul(result.LastHiddenState, Read("probe_hidden", DType.Float32))),
            Ops.Sum(Ops.Mul(result.PoolerOutput!, Read("probe_pooled", DType.Float32))));
        f.Backward();
        foreach (var (name, p) in model.NamedParameters())
        {
            Assert.NotNull(p.Grad);
            Compare("grad." + name, p.Grad, Read("grad." + name, DType.Float32), GradientTolerance, relativeToMax: true);
        }
        model.ZeroGrad();
    }

    private static Tensor Track(Tensor t)
    {
        // Loaded outside every scope; a view made here is freed with the test's scope and keeps the buffer alive.
        var view = t.Detach();
        t.Dispose();
        return view;
    }

    private void Compare(string name, Tensor actual, Tensor expected, double tolerance, bool relativeToMax)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var a = actual.ToArray<float>();
        var e = expected.ToArray<float>();
        double maxAbs = 0, maxRef = 0, maxRel = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double err = Math.Abs(a[i] - e[i]);
            maxAbs = Math.Max(maxAbs, err);
            maxRef = Math.Max(maxRef, Math.Abs(e[i]));
            maxRel = Math.Max(maxRel, err / Math.Max(Math.Abs(e[i]), 1e-6));
        }
        double measured = relativeToMax ? maxAbs / Math.Max(maxRef, 1e-12) : maxAbs;
        output.WriteLine($"{name} {expected.Shape}: max abs error {maxAbs:E2}, max elementwise rel error {maxRel:E2}, max |ref| {maxRef:E2}");
        Assert.True(measured <= tolerance, $"{name}: error {measured:E2} exceeds {tolerance:E0} ({(relativeToMax ? "relative to max |ref|" : "absolute")})");
    }
}

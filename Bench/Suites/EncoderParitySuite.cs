using Xmc.Bench.Harness;
using Xmc.Bench.TorchPeer;
using Xmc.Engine;
using Xmc.Models;
using Xmc.Models.Bert;
using Xmc.Models.IO;

namespace Xmc.Bench.Suites;

/// <summary>Suite <c>encoder-parity</c>: one BERT-base-sized layer (768, 12 heads, 3072, exact GELU) written to a
/// safetensors file under its Hugging Face names, loaded from that file by our encoder and by the libtorch peer,
/// run in evaluation mode on the same input with padding in one row; compares the outputs and the gradients of
/// f = Σ w ⊙ output to the input and to every weight. Prints and records, per tensor, the largest absolute
/// difference and the largest difference relative to the peer's largest magnitude; targets 1e-4 (outputs) and
/// 1e-3 (gradients) relative, fp32. The key bias's gradient is zero in exact arithmetic (softmax is shift-invariant
/// per row), so its noise is measured against the key weight gradient's magnitude.</summary>
public static class EncoderParitySuite
{
    private const double OutputTarget = 1e-4, GradientTarget = 1e-3;

    public static void Run(BenchReport report, bool quick)
    {
        const string suite = "encoder-parity";
        int batch = 2, length = quick ? 16 : 64;
        var config = BertConfig.Base with { NumHiddenLayers = 1, HiddenDropoutProb = 0f, AttentionProbsDropoutProb = 0f };
        int d = config.HiddenSize;
        string path = Path.Combine(Path.GetTempPath(), $"xmc-encoder-parity-{Environment.ProcessId}.safetensors");
        try
        {
            using (var source = new BertLayer(config, new PhiloxStream(11), new DropoutContext()))
            {
                // LayerNorm starts at (1, 0); move it off so that its gradients and scaling are compared too
                var noiseStream = new PhiloxStream(12);
                foreach (var (name, p) in source.NamedParameters().Where(p => p.Name.Contains("LayerNorm", StringComparison.Ordinal)))
                {
                    using var noise = Ops.Normal(p.Shape, name.EndsWith("weight", StringComparison.Ordinal) ? 1f : 0f, 0.1f, noiseStream);
                    p.Data.Backend.Copy(p.Data.Address, noise.Address, noise.Bytes);
                }
                ModuleSafetensors.Save(source, path);
            }
            var x = new float[batch * length * d];
            var w = new float[x.Length];
            Philox.FillNormal(13, 0, x);
            Philox.FillNormal(14, 0, w);
            var additive = new float[batch * length];
            for (int t = length - length / 4; t < length; t++)
            {
                additive[length + t] = AttentionMask.PaddingScore; // the second row's last quarter is padding
            }

            using var file = SafetensorsFile.Open(path);
            using var ours = new BertLayer(config, new PhiloxStream(99), new DropoutContext());
            var load = ModuleSafetensors.Load(ours, file);
            Console.WriteLine($"our layer from {Path.GetFileName(path)}: {load}");
            var (output, inputGrad, weightGrads) = Ours(ours, x, additive, w, batch, length);

            string? peerDown = TorchMatmul.Unavailable;
            if (peerDown is not null)
            {
                Console.WriteLine($"peer unavailable: {peerDown}");
                Console.WriteLine("no comparison made: our side ran (output and gradients computed), the libtorch side could not");
                return;
            }
            var weights = TorchBertLayer.ParameterNames.ToDictionary(n => n, n =>
            {
                using var t = file.Load(n);
                return (t.ToArray<float>(), t.Shape.ToArray().Select(v => (long)v).ToArray());
            });
            using var peer = new TorchBertLayer(weights, config.NumAttentionHeads, config.LayerNormEps, exactGelu: true, threads: Xmc.Engine.Backends.CpuBackend.Instance.Threads);
            var (peerOutput, peerInputGrad) = peer.ForwardBackward(x, additive, w, batch, length);
            Console.WriteLine($"peer: libtorch {TorchMatmul.Version}; B={batch}, T={length}, d={d}");
            var table = new List<string[]> { new[] { "tensor", "max abs err", "max rel err", "target", "within" } };
            var peerGrads = peer.Gradients().ToDictionary(g => g.Name, g => g.Gradient);
            void Compare(string name, float[] mine, float[] theirs, double target)
            {
                double scale = theirs.Max(v => Math.Abs((double)v));
                // softmax ignores a constant added to every score of a row, and the key bias adds q·b to all of a
                // query's scores: its exact gradient is zero and both sides return rounding noise of the sums that
                // cancel. Measure that noise against the key weight's gradient, the same sums before cancelling.
                if (name == "grad.attention.self.key.bias")
                {
                    scale = Math.Max(scale, peerGrads["attention.self.key.weight"].Max(v => Math.Abs((double)v)));
                }
                double abs = mine.Select((v, i) => Math.Abs((double)v - theirs[i])).Max();
                double rel = abs / Math.Max(scale, double.Epsilon);
                report.Add(new BenchRow(suite, name, "max_abs_err", abs, "1", null, null, null, false));
                report.Add(new BenchRow(suite, name, "max_rel_err", rel, "1", "target", target, rel / target, false));
                table.Add([name, $"{abs:E2}", $"{rel:E2}", $"{target:E0}", rel <= target ? "yes" : "NO"]);
            }
            Compare("output", output, peerOutput, OutputTarget);
            Compare("grad.input", inputGrad, peerInputGrad, GradientTarget);
            foreach (var (name, g) in peerGrads)
            {
                Compare($"grad.{name}", weightGrads[name], g, GradientTarget);
            }
            TablePrinter.Print(table);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static (float[] Output, float[] InputGrad, Dictionary<string, float[]> WeightGrads) Ours(BertLayer layer, float[] x, float[] additive, float[] w, int batch, int length)
    {
        int d = layer.Attention.Self.Query.InFeatures;
        using var scope = TensorScope.Begin();
        var xt = Tensor.FromArray(x, new Shape(batch, length, d));
        xt.RequiresGrad = true;
        var y = layer.Forward(xt, Tensor.FromArray(additive, new Shape(batch, length)));
        Ops.Sum(Ops.Mul(y, Tensor.FromArray(w, y.Shape))).Backward();
        var grads = layer.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray<float>());
        var result = (y.ToArray<float>(), xt.Grad!.ToArray<float>(), grads);
        xt.ZeroGrad();
        layer.ZeroGrad();
        return result;
    }
}

namespace Xmc.Tests.Cuda;

/// <summary>The chunked label-major BCE (loss sum and in-place gradient, positives inside and outside the chunk)
/// and the streaming top-k merge over two chunks. Tolerance: loss summed in another order (float partials into a
/// double on the GPU), 1e-5 relative; gradients 1e-6 absolute + 1e-5 relative; top-k identical.</summary>
public class ParityXmcLossTests
{
    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(9, 50, 20)]
    [InlineData(64, 700, 300)]
    public void Chunk_loss_and_top_k_match_the_cpu(int batch, int labels, int labelStart)
    {
        using var p = Parity.OpenOrSkip();
        var r = new Random(batch * labels);
        var offsets = new int[batch + 1];
        var positives = new List<int>();
        for (int b = 0; b < batch; b++)
        {
            // labels from before, inside and after the chunk
            positives.AddRange(Enumerable.Range(0, labelStart + labels + 10).OrderBy(_ => r.Next()).Take(r.Next(0, 6)).Order());
            offsets[b + 1] = positives.Count;
        }
        var off = p.Upload(offsets);
        var pos = p.Upload(positives.Count == 0 ? [0] : positives.ToArray());
        var zData = Parity.Floats(labels * batch, 1, -10f, 10f);
        var zT = p.Upload(zData);
        var lossSum = p.Upload(new[] { 1.5f });
        p.Both((be, at) => be.BceWithLogitsLabelMajor(at(zT), labels, batch, labelStart, at(off), at(pos), 0.125f, at(lossSum)));
        p.AssertClose(lossSum, 1, 1e-6, 1e-5, "loss sum");
        p.AssertClose(zT, (long)labels * batch, 1e-6, 1e-5, "gradient");

        const int k = 5;
        var scores = p.Upload(Enumerable.Repeat(float.NegativeInfinity, batch * k).ToArray());
        var top = p.Upload(Enumerable.Repeat(-1, batch * k).ToArray());
        // coarse values: ties between labels and across the two chunks
        var chunk = p.Upload(zData.Select(v => MathF.Round(v)).ToArray());
        p.Both((be, at) => be.TopKUpdateLabelMajor(at(chunk), labels, batch, labelStart, k, at(scores), at(top)));
        p.Both((be, at) => be.TopKUpdateLabelMajor(at(chunk), labels, batch, labelStart + labels, k, at(scores), at(top)));
        p.AssertSame(scores, "top scores");
        p.AssertSame(top, "top labels");
    }
}

using Xmc.Engine;
using Xmc.Engine.Distributed;

namespace Xmc.Models;

/// <summary>Top-k prediction of a label-sharded head: every rank takes the k best of its own labels for the same
/// rows, the ranks' lists are all-gathered, and each row keeps the k best of the P·k candidates (ties: the lower
/// label id), so every rank ends with the same global ranking. Payload per call: B·k scores and B·k label ids.</summary>
public static class ShardedTopK
{
    /// <summary>Merges this rank's best labels, <paramref name="local"/>(k') with k' = min(k, labels of the shard),
    /// with every other rank's; returns [B, k] scores (descending) and global label ids (Int32) on the scores' device.
    /// Where all ranks together hold fewer than k labels, the tail is −∞ with label −1.</summary>
    public static (Tensor Scores, Tensor Labels) Merge(ICommunicator comm, LabelShard shard, int k, Func<int, (Tensor Scores, Tensor Labels)> local)
    {
        ArgumentNullException.ThrowIfNull(comm);
        ArgumentNullException.ThrowIfNull(local);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        int kk = Math.Min(k, shard.Count);
        var (scores, labels) = local(kk);
        var device = scores.Device;
        int rows = scores.Shape[0];
        float[] localScores = scores.ToArray<float>();
        int[] localLabels = labels.ToArray<int>();
        scores.Dispose();
        labels.Dispose();
        var padScores = new float[(long)rows * k];
        var padLabels = new int[(long)rows * k];
        for (int b = 0; b < rows; b++)
        {
            for (int j = 0; j < k; j++)
            {
                bool real = j < kk;
                padScores[(long)b * k + j] = real ? localScores[(long)b * kk + j] : float.NegativeInfinity;
                padLabels[(long)b * k + j] = real ? localLabels[(long)b * kk + j] + shard.First : -1;
            }
        }
        float[] allScores;
        int[] allLabels;
        using (var s = Tensor.FromArray(padScores, new Shape(rows, k), Device.Cpu, Engine.Memory.MemoryCategory.Communication))
        using (var gathered = comm.AllGather(s))
        {
            allScores = gathered.ToArray<float>();
        }
        using (var l = Tensor.FromArray(padLabels, new Shape(rows, k), Device.Cpu, Engine.Memory.MemoryCategory.Communication))
        using (var gathered = comm.AllGather(l))
        {
            allLabels = gathered.ToArray<int>();
        }
        var outScores = new float[(long)rows * k];
        var outLabels = new int[(long)rows * k];
        int p = comm.Size;
        Parallel.For(0, rows, b =>
        {
            var candidates = new (float Score, int Label)[p * k];
            for (int r = 0; r < p; r++)
            {
                for (int j = 0; j < k; j++)
                {
                    long at = ((long)r * rows + b) * k + j;
                    candidates[r * k + j] = (allScores[at], allLabels[at]);
                }
            }
            // best first: higher score, then the lower label id; padding (label −1, −∞) last
            Array.Sort(candidates, (x, y) => x.Label < 0 != y.Label < 0 ? (x.Label < 0 ? 1 : -1)
                : y.Score.CompareTo(x.Score) is var c && c != 0 ? c : x.Label.CompareTo(y.Label));
            for (int j = 0; j < k; j++)
            {
                outScores[(long)b * k + j] = candidates[j].Score;
                outLabels[(long)b * k + j] = candidates[j].Label;
            }
        });
        return (Tensor.FromArray(outScores, new Shape(rows, k), device), Tensor.FromArray(outLabels, new Shape(rows, k), device));
    }
}

using Xmc.Engine.Memory;

namespace Xmc.Engine;

/// <summary>The positive labels of a batch in CSR form on a device: <see cref="Offsets"/> Int32 [batch+1] and
/// <see cref="Labels"/> Int32 [nnz], each row's labels sorted ascending and unique (Data category).</summary>
public sealed class PositiveLabels : IDisposable
{
    private PositiveLabels(Tensor offsets, Tensor labels, int batch, int numLabels)
    {
        Offsets = offsets;
        Labels = labels;
        Batch = batch;
        NumLabels = numLabels;
    }

    /// <summary>Row starts into <see cref="Labels"/>, Int32 [batch+1].</summary>
    public Tensor Offsets { get; }

    /// <summary>All rows' labels one after the other, Int32 [nnz] (a one-element placeholder when nnz = 0).</summary>
    public Tensor Labels { get; }

    /// <summary>Number of rows.</summary>
    public int Batch { get; }

    /// <summary>Size of the label space the labels index into.</summary>
    public int NumLabels { get; }

    /// <summary>Copies per-row label lists to <paramref name="device"/>; each row is sorted, and a duplicate or
    /// out-of-range label is an error naming the row.</summary>
    public static PositiveLabels FromLists(IReadOnlyList<int[]> rows, int numLabels, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var offsets = new int[rows.Count + 1];
        var all = new List<int>();
        for (int b = 0; b < rows.Count; b++)
        {
            var row = (int[])rows[b].Clone();
            Array.Sort(row);
            for (int i = 0; i < row.Length; i++)
            {
                if (row[i] < 0 || row[i] >= numLabels)
                {
                    throw new ArgumentException($"positive labels: row {b} has label {row[i]}, outside [0, {numLabels})", nameof(rows));
                }
                if (i > 0 && row[i] == row[i - 1])
                {
                    throw new ArgumentException($"positive labels: row {b} lists label {row[i]} twice", nameof(rows));
                }
            }
            all.AddRange(row);
            offsets[b + 1] = all.Count;
        }
        var dev = device ?? Device.Default;
        var o = Tensor.CreateUntracked(new Shape(offsets.Length), DType.Int32, dev, MemoryCategory.Data, zero: false);
        o.CopyFrom<int>(offsets);
        var labels = all.Count == 0 ? [0] : all.ToArray();
        var l = Tensor.CreateUntracked(new Shape(labels.Length), DType.Int32, dev, MemoryCategory.Data, zero: false);
        l.CopyFrom<int>(labels);
        return new PositiveLabels(o, l, rows.Count, numLabels);
    }

    public void Dispose()
    {
        Offsets.Dispose();
        Labels.Dispose();
    }
}

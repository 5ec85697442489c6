using Xmc.Engine;
using Xmc.Models.Xmc;
using Xmc.Training.Data;

namespace Xmc.Training.Inputs;

/// <summary>The model inputs of every point of one split, prepared once before training: tf-idf rows for the
/// bag-of-words encoder (<see cref="TfIdfInputs"/>) or token ids for BERT (<see cref="TokenInputs"/>); a batch of
/// them goes to the device as the <see cref="XmcBatch"/> the model reads.</summary>
public abstract class XmcInputs
{
    /// <summary>Number of points.</summary>
    public abstract int Count { get; }

    /// <summary>The points <paramref name="rows"/> as a model batch on <paramref name="device"/> (scope-tracked).</summary>
    public abstract XmcBatch Batch(ReadOnlySpan<int> rows, Device device);

    /// <summary>The positive labels of the points <paramref name="rows"/> of <paramref name="split"/> (scope-tracked).</summary>
    public static PositiveLabels Labels(XmcDataset split, ReadOnlySpan<int> rows, Device device)
    {
        ArgumentNullException.ThrowIfNull(split);
        var labels = new int[rows.Length][];
        for (int i = 0; i < rows.Length; i++)
        {
            labels[i] = split.Labels.Row(rows[i]).ToArray();
        }
        return PositiveLabels.FromLists(labels, split.NumLabels, device);
    }
}

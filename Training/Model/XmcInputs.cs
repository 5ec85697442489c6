using Xmc.Training.Data;

namespace Xmc.Training.Model;

/// <summary>The model inputs of every point of one split, prepared once before training: tf-idf rows for the
/// bag-of-words encoder (<see cref="TfIdfInputs"/>) or token ids for BERT (<see cref="TokenInputs"/>).</summary>
public abstract class XmcInputs
{
    /// <summary>Number of points.</summary>
    public abstract int Count { get; }

    /// <summary>The positive labels of the points <paramref name="rows"/> of <paramref name="split"/> (scope-tracked).</summary>
    public static Xmc.Engine.PositiveLabels Labels(XmcDataset split, ReadOnlySpan<int> rows, Xmc.Engine.Device device)
    {
        var labels = new int[rows.Length][];
        for (int i = 0; i < rows.Length; i++)
        {
            labels[i] = split.Labels.Row(rows[i]).ToArray();
        }
        return Xmc.Engine.PositiveLabels.FromLists(labels, split.NumLabels, device);
    }
}

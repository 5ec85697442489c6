using Xmc.Engine;

namespace Xmc.Training.Data;

/// <summary>
/// An extreme multi-label data set in memory: per point a sparse feature vector (a row of
/// <see cref="Features"/>) and a sorted label set (a row of <see cref="Labels"/>), optionally the raw text of
/// every point and of every label.
/// </summary>
public sealed class XmcDataset
{
    /// <summary>Points × features, with values (for a raw-text-only set: zero columns, empty rows).</summary>
    public CsrMatrix Features { get; }

    /// <summary>Points × labels, 0/1 (no values).</summary>
    public CsrMatrix Labels { get; }

    /// <summary>Raw text per point, or null.</summary>
    public XmcText[]? PointTexts { get; }

    /// <summary>Raw text (uid and title) per label, or null.</summary>
    public XmcText[]? LabelTexts { get; }

    /// <summary>Number of points.</summary>
    public int NumPoints => Labels.Rows;

    /// <summary>Size of the feature id space.</summary>
    public int NumFeatures => Features.Columns;

    /// <summary>Size of the label id space.</summary>
    public int NumLabels => Labels.Columns;

    /// <exception cref="ArgumentException">The parts disagree on the number of points or labels.</exception>
    public XmcDataset(CsrMatrix features, CsrMatrix labels, XmcText[]? pointTexts = null, XmcText[]? labelTexts = null)
    {
        if (features.Rows != labels.Rows)
            throw new ArgumentException($"dataset: {features.Rows} feature rows but {labels.Rows} label rows");
        if (features.Values is null)
            throw new ArgumentException("dataset: the feature matrix must carry values");
        if (labels.Values is not null)
            throw new ArgumentException("dataset: the label matrix must be 0/1 (no values)");
        if (pointTexts is not null && pointTexts.Length != labels.Rows)
            throw new ArgumentException($"dataset: {pointTexts.Length} point texts for {labels.Rows} points");
        if (labelTexts is not null && labelTexts.Length != labels.Columns)
            throw new ArgumentException($"dataset: {labelTexts.Length} label texts for {labels.Columns} labels");
        Features = features;
        Labels = labels;
        PointTexts = pointTexts;
        LabelTexts = labelTexts;
    }

    /// <summary>Number of points of each label (the label's training frequency when this is a training set).</summary>
    public long[] LabelCounts()
    {
        var counts = new long[NumLabels];
        foreach (int l in Labels.ColumnIds)
            counts[l]++;
        return counts;
    }

    /// <summary>The points <paramref name="rows"/> (in that order) as a data set over the same features and labels.</summary>
    public XmcDataset SelectPoints(ReadOnlySpan<int> rows)
    {
        XmcText[]? texts = null;
        if (PointTexts is not null)
        {
            texts = new XmcText[rows.Length];
            for (int i = 0; i < rows.Length; i++)
                texts[i] = PointTexts[rows[i]];
        }
        return new XmcDataset(Features.SelectRows(rows), Labels.SelectRows(rows), texts, LabelTexts);
    }

    /// <summary>This set over a feature space of <paramref name="features"/> ids (≥ its own): a split whose header
    /// counts fewer features than the training split (its last ids unused) then fits the model's input width.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="features"/> is below <see cref="NumFeatures"/>.</exception>
    public XmcDataset WidenFeatures(int features)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features, NumFeatures);
        return features == NumFeatures ? this
            : new XmcDataset(new CsrMatrix(NumPoints, features, Features.RowPtr, Features.ColumnIds, Features.Values), Labels, PointTexts, LabelTexts);
    }

    /// <summary>Same features, labels and texts.</summary>
    public bool ContentEquals(XmcDataset other)
        => Features.ContentEquals(other.Features) && Labels.ContentEquals(other.Labels)
           && TextsEqual(PointTexts, other.PointTexts) && TextsEqual(LabelTexts, other.LabelTexts);

    private static bool TextsEqual(XmcText[]? a, XmcText[]? b)
        => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}

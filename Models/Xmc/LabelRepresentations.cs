using Xmc.Engine;

namespace Xmc.Models.Xmc;

/// <summary>Label vectors built from the training data for clustering the label space: label l is the sum of the
/// (tf-idf) feature rows of the training points that carry l, scaled to unit L2 norm — the positive-instance
/// feature aggregation used by PECOS and XR-Transformer. A label no training point carries gets an empty row.</summary>
public static class LabelRepresentations
{
    /// <summary>The [labels × features] matrix of label vectors; <paramref name="values"/> are the point rows'
    /// values (same layout as <paramref name="features"/>, e.g. tf-idf).</summary>
    public static CsrMatrix Build(CsrMatrix features, float[] values, CsrMatrix labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Rows != labels.Rows)
        {
            throw new ArgumentException($"label representations: {features.Rows} feature rows but {labels.Rows} label rows");
        }
        if (values.LongLength != features.Nnz)
        {
            throw new ArgumentException($"label representations: {values.LongLength} values for {features.Nnz} feature entries");
        }
        var (pointPtr, points) = PointsPerLabel(labels);
        int numLabels = labels.Columns;
        var cols = new int[numLabels][];
        var vals = new float[numLabels][];
        Parallel.For(0, numLabels, () => new Accumulator(features.Columns), (l, _, acc) =>
        {
            for (long p = pointPtr[l]; p < pointPtr[l + 1]; p++)
            {
                int point = points[p];
                for (long j = features.RowPtr[point]; j < features.RowPtr[point + 1]; j++)
                {
                    acc.Add(features.ColumnIds[j], values[j]);
                }
            }
            (cols[l], vals[l]) = acc.TakeNormalised();
            return acc;
        }, _ => { });
        var rowPtr = new long[numLabels + 1];
        for (int l = 0; l < numLabels; l++)
        {
            rowPtr[l + 1] = rowPtr[l] + cols[l].Length;
        }
        var allCols = new int[rowPtr[numLabels]];
        var allVals = new float[rowPtr[numLabels]];
        for (int l = 0; l < numLabels; l++)
        {
            cols[l].CopyTo(allCols, rowPtr[l]);
            vals[l].CopyTo(allVals, rowPtr[l]);
        }
        return new CsrMatrix(numLabels, features.Columns, rowPtr, allCols, allVals);
    }

    /// <summary>The transpose of the label matrix: for each label, its training points in increasing order.</summary>
    private static (long[] Ptr, int[] Points) PointsPerLabel(CsrMatrix labels)
    {
        var ptr = new long[labels.Columns + 1];
        foreach (int l in labels.ColumnIds)
        {
            ptr[l + 1]++;
        }
        for (int l = 0; l < labels.Columns; l++)
        {
            ptr[l + 1] += ptr[l];
        }
        var next = (long[])ptr.Clone();
        var points = new int[labels.Nnz];
        for (int i = 0; i < labels.Rows; i++)
        {
            for (long p = labels.RowPtr[i]; p < labels.RowPtr[i + 1]; p++)
            {
                points[next[labels.ColumnIds[p]]++] = i;
            }
        }
        return (ptr, points);
    }

    /// <summary>A dense per-thread sum with the list of touched columns, so clearing costs only what was added.</summary>
    private sealed class Accumulator(int width)
    {
        private readonly double[] _sum = new double[width];
        private readonly bool[] _seen = new bool[width];
        private readonly List<int> _touched = [];

        public void Add(int column, float value)
        {
            if (!_seen[column])
            {
                _seen[column] = true;
                _touched.Add(column);
            }
            _sum[column] += value;
        }

        public (int[] Columns, float[] Values) TakeNormalised()
        {
            _touched.Sort();
            double norm = 0;
            foreach (int c in _touched)
            {
                norm += _sum[c] * _sum[c];
            }
            double inv = norm > 0 ? 1 / Math.Sqrt(norm) : 0;
            var columns = _touched.ToArray();
            var values = new float[columns.Length];
            for (int i = 0; i < columns.Length; i++)
            {
                values[i] = (float)(_sum[columns[i]] * inv);
                _sum[columns[i]] = 0;
                _seen[columns[i]] = false;
            }
            _touched.Clear();
            return (columns, values);
        }
    }
}

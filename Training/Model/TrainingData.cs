using Xmc.Engine;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Metrics;

namespace Xmc.Training.Model;

/// <summary>The train and test splits of a run with their tf-idf values and the label propensities, and the
/// batching that turns rows into engine tensors.</summary>
public sealed class TrainingData
{
    private TrainingData(XmcDataset train, XmcDataset? test, TfIdf tfidf, string description)
    {
        Train = train;
        Test = test;
        TfIdf = tfidf;
        TrainValues = tfidf.Transform(train.Features);
        TestValues = test is null ? null : tfidf.Transform(test.Features);
        InversePropensities = InversePropensity.FromTrainingSet(train);
        Description = description;
    }

    /// <summary>Training split.</summary>
    public XmcDataset Train { get; }

    /// <summary>Test split, if any.</summary>
    public XmcDataset? Test { get; }

    /// <summary>The idf fitted on the training split.</summary>
    public TfIdf TfIdf { get; }

    /// <summary>tf-idf values of the training features (same layout as the CSR).</summary>
    public float[] TrainValues { get; }

    /// <summary>tf-idf values of the test features.</summary>
    public float[]? TestValues { get; }

    /// <summary>1/p per label from the training frequencies (A = 0.55, B = 1.5).</summary>
    public double[] InversePropensities { get; }

    /// <summary>Where the data came from, for the log.</summary>
    public string Description { get; }

    /// <summary>Loads the configured files, or generates the synthetic set when none is given.</summary>
    public static TrainingData Load(DataConfig config)
    {
        if (config.Train is null)
        {
            var options = new SyntheticDataOptions
            {
                TrainPoints = config.SyntheticPoints,
                TestPoints = Math.Max(1, config.SyntheticPoints / 4),
                Labels = config.SyntheticLabels,
                Features = config.SyntheticFeatures,
                Seed = (ulong)config.SyntheticSeed,
            };
            var (train, test) = SyntheticData.Generate(options);
            return new TrainingData(train, test, TfIdf.Fit(train.Features),
                $"synthetic (seed {config.SyntheticSeed}): {train.NumPoints} train / {test.NumPoints} test points, {train.NumFeatures} features, {train.NumLabels} labels");
        }
        var trainSet = DatasetLoader.Load(config.Train, config.LabelTitles);
        var testSet = config.Test is null ? null : DatasetLoader.Load(config.Test, config.LabelTitles);
        if (trainSet.NumFeatures == 0 || trainSet.Features.Nnz == 0)
        {
            throw new XmcDataException(config.Train, "the data set has no bag-of-words features", "the bow encoder needs a sparse BoW file (or its cache); raw-text sets need the bert encoder");
        }
        if (testSet is not null && (testSet.NumLabels != trainSet.NumLabels || testSet.NumFeatures > trainSet.NumFeatures))
        {
            throw new XmcDataException(config.Test!, $"the test split has {testSet.NumFeatures} features and {testSet.NumLabels} labels, the training split {trainSet.NumFeatures} and {trainSet.NumLabels}", "use the train/test pair of the same data set");
        }
        return new TrainingData(trainSet, testSet, TfIdf.Fit(trainSet.Features),
            $"{config.Train}: {trainSet.NumPoints} train{(testSet is null ? "" : $" / {testSet.NumPoints} test")} points, {trainSet.NumFeatures} features, {trainSet.NumLabels} labels");
    }

    /// <summary>The rows <paramref name="rows"/> of a split as a tf-idf CSR tensor and positive-label lists.</summary>
    public static (Engine.CsrMatrix X, PositiveLabels Y) Batch(XmcDataset split, float[] values, ReadOnlySpan<int> rows, Device device)
    {
        var f = split.Features;
        var rowPtr = new int[rows.Length + 1];
        for (int i = 0; i < rows.Length; i++)
        {
            rowPtr[i + 1] = checked(rowPtr[i] + f.RowLength(rows[i]));
        }
        var cols = new int[rowPtr[^1]];
        var vals = new float[rowPtr[^1]];
        var labels = new int[rows.Length][];
        for (int i = 0; i < rows.Length; i++)
        {
            int r = rows[i];
            long start = f.RowPtr[r];
            int len = f.RowLength(r);
            Array.Copy(f.ColumnIds, start, cols, rowPtr[i], len);
            Array.Copy(values, start, vals, rowPtr[i], len);
            labels[i] = split.Labels.Row(r).ToArray();
        }
        var x = Engine.CsrMatrix.FromArrays(rowPtr, cols, vals, f.Columns, device);
        return (x, PositiveLabels.FromLists(labels, split.NumLabels, device));
    }
}

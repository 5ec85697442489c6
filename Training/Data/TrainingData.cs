using Xmc.Engine;
using Xmc.Training.Config;
using Xmc.Training.Metrics;

namespace Xmc.Training.Data;

/// <summary>The train and test splits of a run and the label propensities. What a model reads of them (tf-idf rows,
/// token ids) is prepared by <see cref="Loop.ModelSetup"/>.</summary>
public sealed class TrainingData
{
    private TrainingData(XmcDataset all, XmcDataset? test, string description, double? validation)
    {
        double fraction = ValidationSplit.Resolve(validation, all.NumPoints);
        var (train, valid) = ValidationSplit.Carve(all, fraction);
        Train = train;
        Validation = valid;
        Test = test;
        InversePropensities = InversePropensity.FromTrainingSet(train);
        Description = valid is null ? description : description + $"; {valid.NumPoints} of the training points held out for validation ({fraction:P1})";
    }

    /// <summary>Training split.</summary>
    public XmcDataset Train { get; }

    /// <summary>Validation points carved from the training file (<see cref="ValidationSplit"/>), if any: what model
    /// selection reads. They are not in <see cref="Train"/>.</summary>
    public XmcDataset? Validation { get; }

    /// <summary>Test split, if any.</summary>
    public XmcDataset? Test { get; }

    /// <summary>1/p per label from the training frequencies (A = 0.55, B = 1.5) of the points training sees.</summary>
    public double[] InversePropensities { get; }

    /// <summary>Where the data came from, for the log.</summary>
    public string Description { get; }

    /// <summary>Loads the configured files, or generates the synthetic set when none is given.</summary>
    public static TrainingData Load(DataConfig config)
    {
        if (config.Train is null)
        {
            var defaults = new SyntheticDataOptions();
            int maxLabels = Math.Min(defaults.MaxLabelsPerPoint, Math.Max(1, config.SyntheticLabels)); // a set of a few labels has fewer per point
            var options = new SyntheticDataOptions
            {
                TrainPoints = config.SyntheticPoints,
                TestPoints = Math.Max(1, config.SyntheticPoints / 4),
                Labels = config.SyntheticLabels,
                Features = config.SyntheticFeatures,
                Seed = (ulong)config.SyntheticSeed,
                Topics = config.SyntheticTopics,
                MaxLabelsPerPoint = maxLabels,
                MeanLabelsPerPoint = Math.Min(defaults.MeanLabelsPerPoint, maxLabels),
            };
            XmcDataset train, test;
            try
            {
                (train, test) = SyntheticData.Generate(options);
            }
            catch (ArgumentException e)
            {
                throw new ConfigException($"config fields data.synthetic*: {e.Message} (data.syntheticLabels = {config.SyntheticLabels}, data.syntheticFeatures = {config.SyntheticFeatures}, data.syntheticTopics = {config.SyntheticTopics})");
            }
            return new TrainingData(train, test,
                $"synthetic (seed {config.SyntheticSeed}): {train.NumPoints} train / {test.NumPoints} test points, {train.NumFeatures} features, {train.NumLabels} labels"
                + (config.SyntheticTopics > 0 ? $" in {config.SyntheticTopics} topics" : ""), config.Validation);
        }
        var trainSet = DatasetLoader.Load(config.Train, config.LabelTitles);
        var testSet = config.Test is null ? null : DatasetLoader.Load(config.Test, config.LabelTitles);
        if (testSet is not null)
        {
            // checked here, before any training work: a mismatch found at the first evaluation would waste it
            if (testSet.NumLabels != trainSet.NumLabels || testSet.NumFeatures > trainSet.NumFeatures)
            {
                throw new XmcDataException(config.Test!, $"the test split has {testSet.NumFeatures} features and {testSet.NumLabels} labels, the training split {config.Train} {trainSet.NumFeatures} and {trainSet.NumLabels}", "use the train/test pair of the same data set");
            }
            testSet = testSet.WidenFeatures(trainSet.NumFeatures);
        }
        return new TrainingData(trainSet, testSet,
            $"{config.Train}: {trainSet.NumPoints} train{(testSet is null ? "" : $" / {testSet.NumPoints} test")} points, {trainSet.NumFeatures} features, {trainSet.NumLabels} labels", config.Validation);
    }
}

namespace Xmc.Training.Data;

/// <summary>
/// Sizes and signal strength of a synthetic data set. The defaults make a set meant to train a bag-of-words
/// model in 1–3 minutes on 2 CPU cores: 20 000 training and 5 000 test points, 5 000 features (words),
/// 1 500 labels.
/// </summary>
public sealed record SyntheticDataOptions
{
    /// <summary>Training points.</summary>
    public int TrainPoints { get; init; } = 20_000;

    /// <summary>Test points.</summary>
    public int TestPoints { get; init; } = 5_000;

    /// <summary>Vocabulary size: feature ids and words are the same id space.</summary>
    public int Features { get; init; } = 5_000;

    /// <summary>Number of labels.</summary>
    public int Labels { get; init; } = 1_500;

    /// <summary>Exponent s of the Zipf law of label frequencies (label of rank r drawn ∝ 1/r^s).</summary>
    public double LabelZipfExponent { get; init; } = 0.8;

    /// <summary>Mean number of labels per point (geometric, at least 1).</summary>
    public double MeanLabelsPerPoint { get; init; } = 3.0;

    /// <summary>Cap on labels per point.</summary>
    public int MaxLabelsPerPoint { get; init; } = 12;

    /// <summary>Indicative words (features) planted per label.</summary>
    public int IndicativeFeaturesPerLabel { get; init; } = 4;

    /// <summary>Probability that each indicative word of one of its labels appears in a point (at least one always does).</summary>
    public double IndicativeFeatureRate { get; init; } = 0.6;

    /// <summary>Mean number of noise words per point, drawn by a Zipf law over the vocabulary.</summary>
    public int NoiseFeaturesPerPoint { get; init; } = 20;

    /// <summary>Label topics: 0 (default) = labels are independent; T > 0 splits the labels into T topics of
    /// (nearly) equal size, as real label spaces cluster (categories of one subject, titles of one domain). Each topic
    /// owns <see cref="WordsPerTopic"/> words that its points use; a point's first label is drawn as without topics,
    /// each further one with probability <see cref="TopicCoherence"/> from the first label's topic (by the same Zipf
    /// weights within it).</summary>
    public int Topics { get; init; }

    /// <summary>Words owned by each topic (used only when <see cref="Topics"/> > 0).</summary>
    public int WordsPerTopic { get; init; } = 8;

    /// <summary>Probability that each word of a topic among a point's labels' topics appears in it (at least one
    /// always does).</summary>
    public double TopicWordRate { get; init; } = 0.4;

    /// <summary>Probability that a point's further label comes from its first label's topic.</summary>
    public double TopicCoherence { get; init; } = 0.8;

    /// <summary>Seed: the same options give the same data, bit for bit.</summary>
    public ulong Seed { get; init; } = 1;

    /// <exception cref="ArgumentException">A field is out of range; the message names it and the allowed values.</exception>
    public void Validate()
    {
        static void Require(bool ok, string field, string allowed)
        {
            if (!ok)
                throw new ArgumentException($"synthetic data: {field} must be {allowed}");
        }
        Require(TrainPoints >= 1, nameof(TrainPoints), "≥ 1");
        Require(TestPoints >= 0, nameof(TestPoints), "≥ 0");
        Require(Labels >= 1, nameof(Labels), "≥ 1");
        Require(IndicativeFeaturesPerLabel >= 1, nameof(IndicativeFeaturesPerLabel), "≥ 1");
        Require(Features >= IndicativeFeaturesPerLabel, nameof(Features), $"≥ {nameof(IndicativeFeaturesPerLabel)} ({IndicativeFeaturesPerLabel})");
        Require(LabelZipfExponent is >= 0 and <= 4, nameof(LabelZipfExponent), "in [0, 4]");
        Require(MaxLabelsPerPoint >= 1 && MaxLabelsPerPoint <= Labels, nameof(MaxLabelsPerPoint), $"in [1, {nameof(Labels)} = {Labels}]");
        Require(MeanLabelsPerPoint >= 1 && MeanLabelsPerPoint <= MaxLabelsPerPoint, nameof(MeanLabelsPerPoint), $"in [1, {nameof(MaxLabelsPerPoint)} = {MaxLabelsPerPoint}]");
        Require(IndicativeFeatureRate is > 0 and <= 1, nameof(IndicativeFeatureRate), "in (0, 1]");
        Require(NoiseFeaturesPerPoint >= 0, nameof(NoiseFeaturesPerPoint), "≥ 0");
        Require(Topics >= 0 && Topics <= Labels, nameof(Topics), $"in [0, {nameof(Labels)} = {Labels}] (0 = no topics)");
        Require(Topics == 0 || (WordsPerTopic >= 1 && WordsPerTopic <= Features), nameof(WordsPerTopic), $"in [1, {nameof(Features)} = {Features}]");
        Require(TopicWordRate is > 0 and <= 1, nameof(TopicWordRate), "in (0, 1]");
        Require(TopicCoherence is >= 0 and <= 1, nameof(TopicCoherence), "in [0, 1]");
    }
}

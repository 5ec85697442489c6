using Xmc.Engine;
using System.Runtime.InteropServices;

namespace Xmc.Training.Data;

/// <summary>
/// Deterministic synthetic extreme multi-label data with planted signal. Labels have Zipf-distributed
/// frequencies (the frequency order is a seeded permutation of the ids); each label owns a few indicative
/// words; a point draws its labels, includes indicative words of each, and adds Zipf-distributed noise words.
/// The point's text (the words, shuffled) and its bag of words (feature id = word id, value 1 + ln tf,
/// each row L2-normalised) are two views of the same draw. Every point comes from its own counter-based
/// random stream, so a point does not depend on the set sizes before it. With topics
/// (<see cref="SyntheticDataOptions.Topics"/>), labels are grouped, a point's labels mostly share a topic and the
/// topic's words appear beside the labels' own; without them the draw is exactly that of a set without the option.
/// </summary>
public static class SyntheticData
{
    private const ulong LabelOrderStream = 1, LabelWordsStream = 2, NoiseOrderStream = 3, TopicOrderStream = 4, TopicWordsStream = 5,
        TrainStream = 10, TestStream = 11;

    /// <summary>The training and test sets of <paramref name="options"/> (both with BoW features and texts).</summary>
    public static (XmcDataset Train, XmcDataset Test) Generate(SyntheticDataOptions options)
    {
        options.Validate();
        var world = new World(options);
        return (world.MakeSplit(options.TrainPoints, TrainStream, "train"), world.MakeSplit(options.TestPoints, TestStream, "test"));
    }

    /// <summary>The topic of each label under <paramref name="options"/> (empty when it has no topics).</summary>
    public static IReadOnlyList<int> LabelTopics(SyntheticDataOptions options)
    {
        options.Validate();
        return new World(options).TopicOfLabel;
    }

    /// <summary>What all points share: the label law, each label's words, the noise law.</summary>
    private sealed class World
    {
        private readonly SyntheticDataOptions _o;
        private readonly double[] _labelCdf;
        private readonly int[] _labelOfRank;
        private readonly int[][] _wordsOfLabel;
        private readonly double[] _noiseCdf;
        private readonly int[] _wordOfNoiseRank;
        private readonly XmcText[] _labelTexts;
        private readonly int[] _topicOfLabel = [];
        private readonly int[][] _labelsOfTopic = [];
        private readonly double[][] _topicCdf = [];
        private readonly int[][] _wordsOfTopic = [];
        private readonly List<int> _topicsSeen = [];

        public World(SyntheticDataOptions o)
        {
            _o = o;
            _labelCdf = ZipfCdf(o.Labels, o.LabelZipfExponent);
            _labelOfRank = Permutation(o.Labels, new SplitMix64(o.Seed, LabelOrderStream, 0));
            _noiseCdf = ZipfCdf(o.Features, 1.0);
            _wordOfNoiseRank = Permutation(o.Features, new SplitMix64(o.Seed, NoiseOrderStream, 0));
            _wordsOfLabel = new int[o.Labels][];
            _labelTexts = new XmcText[o.Labels];
            for (int l = 0; l < o.Labels; l++)
            {
                var rng = new SplitMix64(o.Seed, LabelWordsStream, (ulong)l);
                var words = new List<int>();
                while (words.Count < o.IndicativeFeaturesPerLabel)
                {
                    int w = rng.NextInt(o.Features);
                    if (!words.Contains(w))
                        words.Add(w);
                }
                _wordsOfLabel[l] = [.. words];
                _labelTexts[l] = new XmcText($"L{l}", string.Join(' ', _wordsOfLabel[l].Take(2).Select(PseudoWords.Word)), "");
            }
            if (o.Topics > 0)
            {
                // topic t holds the labels at positions t, t + T, t + 2T, … of a seeded permutation: balanced sizes,
                // frequent and rare labels mixed in every topic
                var order = Permutation(o.Labels, new SplitMix64(o.Seed, TopicOrderStream, 0));
                _topicOfLabel = new int[o.Labels];
                var members = Enumerable.Range(0, o.Topics).Select(_ => new List<int>()).ToArray();
                for (int i = 0; i < o.Labels; i++)
                {
                    _topicOfLabel[order[i]] = i % o.Topics;
                    members[i % o.Topics].Add(order[i]);
                }
                var rankOfLabel = new int[o.Labels];
                for (int r = 0; r < o.Labels; r++)
                    rankOfLabel[_labelOfRank[r]] = r;
                _labelsOfTopic = new int[o.Topics][];
                _topicCdf = new double[o.Topics][];
                _wordsOfTopic = new int[o.Topics][];
                for (int t = 0; t < o.Topics; t++)
                {
                    // within a topic, labels keep their global Zipf weights
                    var labels = members[t].OrderBy(l => rankOfLabel[l]).ToArray();
                    var cdf = new double[labels.Length];
                    double total = 0;
                    for (int i = 0; i < labels.Length; i++)
                        cdf[i] = total += Math.Pow(rankOfLabel[labels[i]] + 1, -o.LabelZipfExponent);
                    for (int i = 0; i < labels.Length; i++)
                        cdf[i] /= total;
                    _labelsOfTopic[t] = labels;
                    _topicCdf[t] = cdf;
                    var rng = new SplitMix64(o.Seed, TopicWordsStream, (ulong)t);
                    var words = new List<int>();
                    while (words.Count < o.WordsPerTopic)
                    {
                        int w = rng.NextInt(o.Features);
                        if (!words.Contains(w))
                            words.Add(w);
                    }
                    _wordsOfTopic[t] = [.. words];
                }
            }
        }

        /// <summary>The topic of each label (empty without topics).</summary>
        public IReadOnlyList<int> TopicOfLabel => _topicOfLabel;

        public XmcDataset MakeSplit(int points, ulong stream, string prefix)
        {
            var features = new CsrMatrixBuilder(withValues: true, points);
            var labels = new CsrMatrixBuilder(withValues: false, points);
            var texts = new XmcText[points];
            var labelSet = new List<int>();
            var tokens = new List<int>();
            var sorted = new List<int>();
            var ids = new List<int>();
            var values = new List<float>();
            for (int i = 0; i < points; i++)
            {
                var rng = new SplitMix64(_o.Seed, stream, (ulong)i);
                DrawLabels(ref rng, labelSet);
                DrawTokens(ref rng, labelSet, tokens);
                sorted.Clear();
                sorted.AddRange(tokens);
                sorted.Sort();
                ids.Clear();
                values.Clear();
                float squares = 0;
                for (int j = 0; j < sorted.Count;)
                {
                    int end = j;
                    while (end < sorted.Count && sorted[end] == sorted[j])
                        end++;
                    float v = 1 + MathF.Log(end - j);
                    ids.Add(sorted[j]);
                    values.Add(v);
                    squares += v * v;
                    j = end;
                }
                float norm = MathF.Sqrt(squares);
                for (int j = 0; j < values.Count; j++)
                    values[j] /= norm;
                features.AppendRow(CollectionsMarshal.AsSpan(ids), CollectionsMarshal.AsSpan(values));
                labelSet.Sort();
                labels.AppendRow(CollectionsMarshal.AsSpan(labelSet), default);
                texts[i] = new XmcText($"{prefix}-{i}", string.Join(' ', tokens.Select(PseudoWords.Word)), "");
            }
            return new XmcDataset(features.Build(_o.Features), labels.Build(_o.Labels), texts, _labelTexts);
        }

        private void DrawLabels(ref SplitMix64 rng, List<int> labelSet)
        {
            labelSet.Clear();
            // geometric count with the requested mean: continue with probability (mean − 1)/mean
            double more = (_o.MeanLabelsPerPoint - 1) / _o.MeanLabelsPerPoint;
            int count = 1;
            while (count < _o.MaxLabelsPerPoint && rng.NextDouble() < more)
                count++;
            // redraw repeats; bounded so a tiny label space with a steep law cannot spin for long
            for (int tries = 0; labelSet.Count < count && tries < 50 * count; tries++)
            {
                int label;
                if (_o.Topics > 0 && labelSet.Count > 0 && rng.NextDouble() < _o.TopicCoherence)
                {
                    int topic = _topicOfLabel[labelSet[0]];
                    label = _labelsOfTopic[topic][Sample(_topicCdf[topic], rng.NextDouble())];
                }
                else
                {
                    label = _labelOfRank[Sample(_labelCdf, rng.NextDouble())];
                }
                if (!labelSet.Contains(label))
                    labelSet.Add(label);
            }
        }

        private void DrawTokens(ref SplitMix64 rng, List<int> labelSet, List<int> tokens)
        {
            tokens.Clear();
            foreach (int label in labelSet)
            {
                var words = _wordsOfLabel[label];
                int before = tokens.Count;
                foreach (int w in words)
                {
                    if (rng.NextDouble() < _o.IndicativeFeatureRate)
                        AddWord(ref rng, tokens, w);
                }
                if (tokens.Count == before)
                    AddWord(ref rng, tokens, words[rng.NextInt(words.Length)]);
            }
            if (_o.Topics > 0)
            {
                _topicsSeen.Clear();
                foreach (int label in labelSet)
                {
                    int topic = _topicOfLabel[label];
                    if (_topicsSeen.Contains(topic))
                        continue;
                    _topicsSeen.Add(topic);
                    var words = _wordsOfTopic[topic];
                    int before = tokens.Count;
                    foreach (int w in words)
                    {
                        if (rng.NextDouble() < _o.TopicWordRate)
                            AddWord(ref rng, tokens, w);
                    }
                    if (tokens.Count == before)
                        AddWord(ref rng, tokens, words[rng.NextInt(words.Length)]);
                }
            }
            int noise = _o.NoiseFeaturesPerPoint == 0 ? 0 : _o.NoiseFeaturesPerPoint / 2 + rng.NextInt(_o.NoiseFeaturesPerPoint + 1);
            for (int j = 0; j < noise; j++)
                tokens.Add(_wordOfNoiseRank[Sample(_noiseCdf, rng.NextDouble())]);
            for (int j = tokens.Count - 1; j > 0; j--)
            {
                int k = rng.NextInt(j + 1);
                (tokens[j], tokens[k]) = (tokens[k], tokens[j]);
            }
        }

        private static void AddWord(ref SplitMix64 rng, List<int> tokens, int word)
        {
            tokens.Add(word);
            if (rng.NextDouble() < 0.3)
                tokens.Add(word);
        }
    }

    private static double[] ZipfCdf(int n, double exponent)
    {
        var cdf = new double[n];
        double total = 0;
        for (int r = 0; r < n; r++)
            cdf[r] = total += Math.Pow(r + 1, -exponent);
        for (int r = 0; r < n; r++)
            cdf[r] /= total;
        return cdf;
    }

    private static int Sample(double[] cdf, double u)
    {
        int i = Array.BinarySearch(cdf, u);
        return Math.Min(i >= 0 ? i + 1 : ~i, cdf.Length - 1);
    }

    private static int[] Permutation(int n, SplitMix64 rng)
    {
        var p = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}

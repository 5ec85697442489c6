using System.Runtime.InteropServices;

namespace Xmc.Training.Data;

/// <summary>
/// Deterministic synthetic extreme multi-label data with planted signal. Labels have Zipf-distributed
/// frequencies (the frequency order is a seeded permutation of the ids); each label owns a few indicative
/// words; a point draws its labels, includes indicative words of each, and adds Zipf-distributed noise words.
/// The point's text (the words, shuffled) and its bag of words (feature id = word id, value 1 + ln tf,
/// each row L2-normalised) are two views of the same draw. Every point comes from its own counter-based
/// random stream, so a point does not depend on the set sizes before it.
/// </summary>
public static class SyntheticData
{
    private const ulong LabelOrderStream = 1, LabelWordsStream = 2, NoiseOrderStream = 3, TrainStream = 10, TestStream = 11;

    /// <summary>The training and test sets of <paramref name="options"/> (both with BoW features and texts).</summary>
    public static (XmcDataset Train, XmcDataset Test) Generate(SyntheticDataOptions options)
    {
        options.Validate();
        var world = new World(options);
        return (world.MakeSplit(options.TrainPoints, TrainStream, "train"), world.MakeSplit(options.TestPoints, TestStream, "test"));
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
        }

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
                int label = _labelOfRank[Sample(_labelCdf, rng.NextDouble())];
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

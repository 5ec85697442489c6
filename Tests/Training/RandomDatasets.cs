using Xmc.Engine;
using Xmc.Training.Data;

namespace Xmc.Tests.Training;

/// <summary>Small random data sets for round-trip and fuzz properties, drawn from a seed.</summary>
internal static class RandomDatasets
{
    private const string TextAlphabet = "abc xyz äöü 日本 \"\\/\t{}[]:,é€";

    public static XmcDataset Make(int seed, bool withTexts)
    {
        var r = new Random(seed);
        int points = r.Next(0, 8), features = r.Next(1, 12), labels = r.Next(1, 10);
        var featurePtr = new long[points + 1];
        var labelPtr = new long[points + 1];
        var featureIds = new List<int>();
        var values = new List<float>();
        var labelIds = new List<int>();
        for (int i = 0; i < points; i++)
        {
            // some rows empty on purpose: points without labels and without features are legal
            foreach (int f in Subset(r, features, r.Next(3) == 0 ? 0 : r.Next(1, features + 1)))
            {
                featureIds.Add(f);
                values.Add(r.Next(4) switch
                {
                    0 => (float)r.NextDouble(),
                    1 => -(float)(r.NextDouble() * 1e6),
                    2 => (float)(r.NextDouble() * 1e-30),
                    _ => r.Next(1, 5),
                });
            }
            labelIds.AddRange(Subset(r, labels, r.Next(3) == 0 ? 0 : r.Next(1, labels + 1)));
            featurePtr[i + 1] = featureIds.Count;
            labelPtr[i + 1] = labelIds.Count;
        }
        XmcText[]? pointTexts = null, labelTexts = null;
        if (withTexts)
        {
            pointTexts = Enumerable.Range(0, points).Select(i => new XmcText($"p{i}", Text(r), Text(r))).ToArray();
            labelTexts = Enumerable.Range(0, labels).Select(i => new XmcText(r.Next(2) == 0 ? "" : $"L{i}", Text(r), "")).ToArray();
        }
        return new XmcDataset(
            new CsrMatrix(points, features, featurePtr, [.. featureIds], [.. values]),
            new CsrMatrix(points, labels, labelPtr, [.. labelIds], null),
            pointTexts, labelTexts);
    }

    private static IEnumerable<int> Subset(Random r, int n, int count)
        => Enumerable.Range(0, n).OrderBy(_ => r.Next()).Take(count).Order();

    private static string Text(Random r)
        => new(Enumerable.Range(0, r.Next(0, 12)).Select(_ => TextAlphabet[r.Next(TextAlphabet.Length)]).ToArray());
}

using Xmc.Training.Data;
using Xmc.Training.Metrics;

namespace Xmc.Tests.Training;

public class SyntheticDataTests
{
    private static readonly SyntheticDataOptions Small = new() { TrainPoints = 2000, TestPoints = 500, Features = 1000, Labels = 200, Seed = 5 };

    [Fact]
    public void Same_seed_gives_the_same_data_and_another_seed_other_data()
    {
        var a = SyntheticData.Generate(Small);
        var b = SyntheticData.Generate(Small);
        var c = SyntheticData.Generate(Small with { Seed = 6 });
        Assert.True(a.Train.ContentEquals(b.Train) && a.Test.ContentEquals(b.Test));
        Assert.False(a.Train.ContentEquals(c.Train));
    }

    [Fact]
    public void A_point_does_not_depend_on_the_split_sizes()
    {
        var small = SyntheticData.Generate(Small with { TrainPoints = 10, TestPoints = 3 });
        var big = SyntheticData.Generate(Small);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(big.Train.Labels.Row(i).ToArray(), small.Train.Labels.Row(i).ToArray());
            Assert.Equal(big.Train.PointTexts![i], small.Train.PointTexts![i]);
        }
        Assert.Equal(big.Test.PointTexts![2], small.Test.PointTexts![2]);
    }

    [Fact]
    public void Text_and_bag_of_words_are_views_of_the_same_words()
    {
        var (train, _) = SyntheticData.Generate(Small with { TrainPoints = 200, TestPoints = 0 });
        var idOfWord = Enumerable.Range(0, Small.Features).ToDictionary(PseudoWords.Word);
        Assert.Equal(Small.Features, idOfWord.Count); // words are distinct
        for (int i = 0; i < train.NumPoints; i++)
        {
            var counts = train.PointTexts![i].Text.Split(' ').GroupBy(w => idOfWord[w]).OrderBy(g => g.Key).ToArray();
            Assert.Equal(counts.Select(g => g.Key), train.Features.Row(i).ToArray());
            var raw = counts.Select(g => 1 + Math.Log(g.Count())).ToArray();
            double norm = Math.Sqrt(raw.Sum(v => v * v));
            var values = train.Features.RowValues(i);
            for (int j = 0; j < raw.Length; j++)
                Assert.Equal(raw[j] / norm, values[j], 1e-5);
        }
    }

    [Fact]
    public void Label_frequencies_follow_a_power_law()
    {
        var (train, _) = SyntheticData.Generate(Small);
        var counts = train.LabelCounts().OrderDescending().ToArray();
        double mean = (double)train.Labels.Nnz / train.NumPoints;
        Assert.InRange(mean, 2.5, 3.5);
        // Zipf with s = 0.8 over 200 labels: the top label is 1/Σ r^−0.8 ≈ 10 % of draws, the median 100^0.8 ≈ 40× rarer
        Assert.InRange(counts[0] / (double)train.Labels.Nnz, 0.07, 0.13);
        Assert.True(counts[0] > 20 * Math.Max(1, counts[100]), $"top {counts[0]}, median {counts[100]}");
    }

    // The planted signal: scoring each label by how many of its indicative words a point contains (read off the
    // label titles, which name two of them) must beat predicting the most popular labels by a wide margin.
    [Fact]
    public void Planted_words_predict_labels_far_better_than_popularity()
    {
        var (train, test) = SyntheticData.Generate(Small);
        var popular = RankedLabels.TopK(train.LabelCounts().Select(c => (float)c).ToArray(), 5);
        var byPopularity = Enumerable.Repeat(popular, test.NumPoints).ToArray();
        var idOfWord = Enumerable.Range(0, Small.Features).ToDictionary(PseudoWords.Word);
        var labelWords = test.LabelTexts!.Select(t => t.Title.Split(' ').Select(w => idOfWord[w]).ToArray()).ToArray();
        var prior = train.LabelCounts();
        var byWords = new int[test.NumPoints][];
        for (int i = 0; i < test.NumPoints; i++)
        {
            var present = test.Features.Row(i).ToArray();
            var scores = labelWords.Select((ws, l) => ws.Count(w => Array.BinarySearch(present, w) >= 0) + 1e-6f * prior[l]).ToArray();
            byWords[i] = RankedLabels.TopK(scores, 5);
        }
        double baseline = XmcMetrics.Evaluate(byPopularity, test.Labels, 1).Precision[0];
        double planted = XmcMetrics.Evaluate(byWords, test.Labels, 1).Precision[0];
        Assert.True(planted > 2.5 * baseline && planted > 0.6, $"P@1 from planted words {planted:F3}, popularity {baseline:F3}");
    }

    [Fact]
    public void Impossible_options_name_the_field()
    {
        var e = Assert.Throws<ArgumentException>(() => SyntheticData.Generate(Small with { MaxLabelsPerPoint = 500 }));
        Assert.Contains("MaxLabelsPerPoint must be in [1, Labels = 200]", e.Message);
    }
}

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
        e = Assert.Throws<ArgumentException>(() => SyntheticData.Generate(Small with { Topics = 201 }));
        Assert.Contains("Topics must be in [0, Labels = 200]", e.Message);
    }

    [Fact]
    public void Without_topics_the_topic_settings_change_nothing()
    {
        var plain = SyntheticData.Generate(Small);
        var other = SyntheticData.Generate(Small with { WordsPerTopic = 3, TopicCoherence = 0.1, TopicWordRate = 0.9 });
        Assert.True(plain.Train.ContentEquals(other.Train) && plain.Test.ContentEquals(other.Test));
        Assert.Empty(SyntheticData.LabelTopics(Small));
    }

    // Topics: balanced groups, a point's labels mostly from its first label's topic, and words shared by a topic's
    // points beyond their labels' own.
    [Fact]
    public void Topics_are_balanced_coherent_and_have_their_own_words()
    {
        var options = Small with { Topics = 20, TopicCoherence = 0.8 };
        var topics = SyntheticData.LabelTopics(options);
        Assert.Equal(Small.Labels, topics.Count);
        Assert.All(topics.GroupBy(t => t), g => Assert.Equal(10, g.Count()));

        var (train, _) = SyntheticData.Generate(options);
        int further = 0, sameTopic = 0;
        for (int i = 0; i < train.NumPoints; i++)
        {
            var labels = train.Labels.Row(i).ToArray();
            // the first drawn label is not known after sorting; count pairs: with coherence c and T topics, the share
            // of label pairs in one topic is well above the 1/T of independent labels
            for (int a = 0; a < labels.Length; a++)
            {
                for (int b = a + 1; b < labels.Length; b++)
                {
                    further++;
                    sameTopic += topics[labels[a]] == topics[labels[b]] ? 1 : 0;
                }
            }
        }
        double share = (double)sameTopic / further;
        Assert.True(share > 0.5, $"{share:P1} of label pairs share a topic (independent labels: 5 %)");

        var independent = SyntheticData.Generate(Small).Train;
        int pairs = 0, samePairs = 0;
        for (int i = 0; i < independent.NumPoints; i++)
        {
            var labels = independent.Labels.Row(i).ToArray();
            for (int a = 0; a < labels.Length; a++)
            {
                for (int b = a + 1; b < labels.Length; b++)
                {
                    pairs++;
                    samePairs += topics[labels[a]] == topics[labels[b]] ? 1 : 0;
                }
            }
        }
        Assert.True((double)samePairs / pairs < 0.12, $"{(double)samePairs / pairs:P1} of independent label pairs share a topic");

        // a topic's points share words that their labels' own words do not explain: some word is in a large share of
        // the points of topic 0 (by their labels) and rare elsewhere (a label's own words reach only its points, a
        // tenth of the topic's; the Zipf noise words are everywhere)
        var inTopic = Enumerable.Range(0, train.NumPoints).Where(i => train.Labels.Row(i).ToArray().Any(l => topics[l] == 0)).ToHashSet();
        var inside = new double[Small.Features];
        var outside = new double[Small.Features];
        for (int i = 0; i < train.NumPoints; i++)
        {
            foreach (int w in train.Features.Row(i).ToArray())
            {
                (inTopic.Contains(i) ? inside : outside)[w]++;
            }
        }
        int topicWord = Enumerable.Range(0, Small.Features).MaxBy(w => inside[w] / inTopic.Count - outside[w] / (train.NumPoints - inTopic.Count));
        double insideShare = inside[topicWord] / inTopic.Count, outsideShare = outside[topicWord] / (train.NumPoints - inTopic.Count);
        Assert.True(insideShare > 0.3 && insideShare > 5 * outsideShare, $"word {topicWord}: in {insideShare:P0} of topic-0 points, {outsideShare:P0} of the others");
    }
}

using System.Diagnostics;
using System.Text.Json;
using Xmc.Training.Data;
using Xmc.Training.Inputs;

namespace Xmc.Tests.Training;

/// <summary>scripts/wordnet_dataset.py on a made-up WordNet (<see cref="WordNetFixture"/>): the labels are the
/// transitive ancestors and domains less the cut, the split is a function of the synset alone, and both output
/// formats load with our readers and agree.</summary>
public class WordNetDatasetTests
{
    private sealed record Built(string Folder, List<(string Title, string Content, int[] Labels)> Train,
        List<(string Title, string Content, int[] Labels)> Test, string[] LabelTitles, JsonElement Stats);

    private static string? Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "scripts", "wordnet_dataset.py");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    private static string? Python()
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "python3")).FirstOrDefault(File.Exists);

    private static Built Build(WordNetFixture wordnet, bool reversed = false)
    {
        var script = Script();
        var python = Python();
        if (script is null || python is null)
        {
            Assert.Skip(script is null
                ? $"scripts/wordnet_dataset.py is not above {AppContext.BaseDirectory} (not a source checkout)"
                : "python3 is not on PATH; the WordNet builder is a Python script");
        }
        var root = Directory.CreateTempSubdirectory("xmc-wordnet-test").FullName;
        var db = Directory.CreateDirectory(Path.Combine(root, "db")).FullName;
        var outDir = Path.Combine(root, "out");
        wordnet.Write(db, reversed);
        var start = new ProcessStartInfo(python!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { script!, "--wordnet", db, "--out", outDir })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"wordnet_dataset.py exited with {process.ExitCode}: {stderr}");
        Assert.Contains("\"labels\"", stdout.Result, StringComparison.Ordinal);

        List<(string, string, int[])> Points(string file) => File.ReadLines(Path.Combine(outDir, file)).Select(line =>
        {
            using var json = JsonDocument.Parse(line);
            var r = json.RootElement;
            return (r.GetProperty("title").GetString()!, r.GetProperty("content").GetString()!,
                r.GetProperty("target_ind").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        }).ToList();
        var labels = File.ReadLines(Path.Combine(outDir, "lbl.json")).Select(line =>
        {
            using var json = JsonDocument.Parse(line);
            return json.RootElement.GetProperty("title").GetString()!;
        }).ToArray();
        using var stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "stats.json")));
        return new Built(outDir, Points("trn.json"), Points("tst.json"), labels, stats.RootElement.Clone());
    }

    [Fact]
    public void Labels_are_the_transitive_ancestors_and_domains_less_the_ten_percent_cut()
    {
        var wordnet = new WordNetFixture();
        var built = Build(wordnet);
        var byTitle = wordnet.All.ToDictionary(s => s.Title);
        int trainBefore = built.Stats.GetProperty("train_points").GetInt32() + built.Stats.GetProperty("train_points_dropped_without_labels").GetInt32();
        Assert.Equal(wordnet.All.Count, trainBefore + built.Stats.GetProperty("test_points").GetInt32() + built.Stats.GetProperty("test_points_dropped_without_labels").GetInt32());

        // Recount over the training split (CRC-32 of the key, computed here): kept = carried by 1 .. 10 % of it.
        var train = wordnet.All.Where(s => !WordNetFixture.InTest(s)).ToList();
        Assert.Equal(train.Count, trainBefore);
        var count = new Dictionary<WordNetFixture.Synset, int>();
        foreach (var a in train.SelectMany(WordNetFixture.Ancestors))
        {
            count[a] = count.GetValueOrDefault(a) + 1;
        }
        double limit = 0.1 * train.Count;
        var kept = count.Where(c => c.Value <= limit).Select(c => c.Key.Title).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(kept, built.LabelTitles.Order(StringComparer.Ordinal));
        Assert.Equal(count.Count(c => c.Value > limit), built.Stats.GetProperty("labels_dropped_as_too_frequent").GetInt32());
        // The points: each synset in its split, unless no label is left to it.
        bool HasLabels(WordNetFixture.Synset s) => WordNetFixture.Ancestors(s).Any(a => kept.Contains(a.Title));
        Assert.Equal(train.Where(HasLabels).Select(s => s.Title).Order(StringComparer.Ordinal), built.Train.Select(p => p.Title).Order(StringComparer.Ordinal));
        Assert.Equal(wordnet.All.Where(s => WordNetFixture.InTest(s) && HasLabels(s)).Select(s => s.Title).Order(StringComparer.Ordinal),
            built.Test.Select(p => p.Title).Order(StringComparer.Ordinal));
        foreach (var root in new[] { "entity", "physical entity", "abstraction" })
        {
            Assert.DoesNotContain(root, built.LabelTitles); // near-root ancestors are cut
        }
        Assert.DoesNotContain(built.Train.Concat(built.Test), p => p.Title is "entity" or "move"); // roots: no labels

        // Every point's labels: its ancestors (through @ and @i, transitively) and domains, less the dropped ones.
        foreach (var p in built.Train.Concat(built.Test))
        {
            var expected = WordNetFixture.Ancestors(byTitle[p.Title]).Select(a => a.Title).Where(kept.Contains).Order(StringComparer.Ordinal);
            Assert.Equal(expected, p.Labels.Select(i => built.LabelTitles[i]).Order(StringComparer.Ordinal));
            Assert.NotEmpty(p.Labels);
        }
        // The instances reach their leaf's subcategory through @i then @; reverse pointers (~, -c) give nothing.
        foreach (var instance in wordnet.Instances)
        {
            var point = built.Train.Concat(built.Test).Single(p => p.Title == instance.Title);
            Assert.Contains("sort0x0", point.Labels.Select(i => built.LabelTitles[i]));
        }
        // Reverse pointers (~ hyponym, -c member of topic) give nothing: only the instances carry a leaf as a label.
        Assert.All(built.Train.Concat(built.Test).Where(p => !p.Title.StartsWith("Named", StringComparison.Ordinal)),
            p => Assert.DoesNotContain(p.Labels, i => built.LabelTitles[i].StartsWith("item", StringComparison.Ordinal)));
        Assert.Contains("zoology", built.LabelTitles); // the ;c topic of the kind1 leaves
        Assert.Contains("slang", built.LabelTitles);   // a ;u usage domain, of nouns and of a verb
        // The synset's lemmas and its whole gloss (definition and quoted example) are its text.
        var leaf = built.Train.Concat(built.Test).Single(p => p.Title == "item4x1x0, item4x1x0 alias");
        Assert.Equal("an item of sort s4x1 with trait t0 and shade h0; \"the item4x1x0 shines\"", leaf.Content);
    }

    [Fact]
    public void The_split_is_a_function_of_the_synset_and_the_build_is_deterministic()
    {
        var first = Build(new WordNetFixture());
        var again = Build(new WordNetFixture(), reversed: true);
        foreach (var file in new[] { "train.txt", "test.txt", "trn.json", "tst.json", "lbl.json", "vocabulary.txt", "stats.json" })
        {
            Assert.Equal(File.ReadAllText(Path.Combine(first.Folder, file)), File.ReadAllText(Path.Combine(again.Folder, file)));
        }
        // More synsets (which move the offsets of some, so they are other synsets to the builder) change label ids,
        // counts and cuts, not the split: in both builds each synset is where CRC-32 of its key puts it.
        var grownFixture = new WordNetFixture(extraVerbs: 40);
        var grown = Build(grownFixture);
        foreach (var (fixture, build) in new[] { (new WordNetFixture(), first), (grownFixture, grown) })
        {
            var byTitle = fixture.All.ToDictionary(s => s.Title);
            Assert.All(build.Train, p => Assert.False(WordNetFixture.InTest(byTitle[p.Title]), p.Title));
            Assert.All(build.Test, p => Assert.True(WordNetFixture.InTest(byTitle[p.Title]), p.Title));
        }
        double share = (double)first.Test.Count / (first.Train.Count + first.Test.Count);
        Assert.InRange(share, 0.1, 0.3); // 1 in 5 by hash
    }

    [Fact]
    public void Both_formats_load_with_our_readers_and_agree()
    {
        var built = Build(new WordNetFixture());
        var vocabulary = File.ReadAllLines(Path.Combine(built.Folder, "vocabulary.txt"));
        foreach (var (bowFile, jsonFile, points) in new[] { ("train.txt", "trn.json", built.Train), ("test.txt", "tst.json", built.Test) })
        {
            var bow = SparseBowReader.Read(Path.Combine(built.Folder, bowFile));
            var text = RawTextJsonlReader.Read(Path.Combine(built.Folder, jsonFile), Path.Combine(built.Folder, "lbl.json"));
            Assert.Equal(points.Count, bow.NumPoints);
            Assert.Equal(built.LabelTitles.Length, bow.NumLabels);
            Assert.Equal(vocabulary.Length, bow.NumFeatures);
            Assert.True(bow.Labels.ContentEquals(text.Labels));
            Assert.Equal(points.Select(p => p.Title), text.PointTexts!.Select(t => t.Title));
            Assert.Equal(built.LabelTitles, text.LabelTexts!.Select(t => t.Title));
            // Word counts, so data.weighting=auto applies tf-idf; each count is the word's occurrences in the text.
            Assert.True(FeatureWeights.HoldsCounts(bow.Features));
            Assert.Equal(FeatureWeighting.TfIdf, FeatureWeights.Resolve(FeatureWeighting.Auto, bow.Features));
            for (int i = 0; i < bow.NumPoints; i++)
            {
                var words = System.Text.RegularExpressions.Regex.Matches((points[i].Title + " " + points[i].Content).ToLowerInvariant(), "[a-z0-9]+")
                    .Select(m => m.Value).Where(w => w.Length > 1).ToList();
                var row = bow.Features.Row(i).ToArray();
                var values = bow.Features.RowValues(i);
                for (int j = 0; j < row.Length; j++)
                {
                    Assert.Equal(words.Count(w => w == vocabulary[row[j]]), (int)values[j]);
                }
            }
        }
        Assert.Equal(built.Train.Count, built.Stats.GetProperty("train_points").GetInt32());
        Assert.Equal(built.LabelTitles.Length, built.Stats.GetProperty("labels").GetInt32());
    }
}

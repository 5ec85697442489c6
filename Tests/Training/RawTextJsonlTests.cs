using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Training.Data;

namespace Xmc.Tests.Training;

public class RawTextJsonlTests
{
    private static readonly XmcText[] ThreeLabels = [new("a", "alpha", ""), new("b", "beta", ""), new("c", "gamma", "")];

    private static XmcDataset ParsePoints(string text, XmcText[]? labels = null)
        => RawTextJsonlReader.ReadPoints(new StringReader(text), "trn.json", labels ?? ThreeLabels);

    private static (string Points, string Labels) Write(XmcDataset data)
    {
        using var points = new MemoryStream();
        using var labels = new MemoryStream();
        RawTextJsonlWriter.WritePoints(data, points);
        RawTextJsonlWriter.WriteLabels(data.LabelTexts!, labels);
        return (Encoding.UTF8.GetString(points.ToArray()), Encoding.UTF8.GetString(labels.ToArray()));
    }

    [Fact]
    public void Reads_points_and_labels_of_the_LF_format()
    {
        var labels = RawTextJsonlReader.ReadLabels(new StringReader(
            "{\"uid\": \"B001\", \"title\": \"Red shoes\"}\n{\"uid\": 17, \"title\": \"Blue hat\", \"content\": \"\"}\n"), "lbl.json");
        Assert.Equal([new XmcText("B001", "Red shoes", ""), new XmcText("17", "Blue hat", "")], labels);
        var d = ParsePoints(
            "{\"uid\":\"x1\",\"title\":\"Shoe\",\"content\":\"a red one\",\"target_ind\":[1,0],\"target_rel\":[1.0,0.5],\"extra\":{\"k\":[1]}}\n" +
            "{\"title\":\"nothing\",\"target_ind\":[]}\n", labels);
        Assert.Equal((2, 0, 2), (d.NumPoints, d.NumFeatures, d.NumLabels));
        Assert.Equal([0, 1], d.Labels.Row(0).ToArray());
        Assert.Equal("Shoe a red one", d.PointTexts![0].Text);
        Assert.Equal(new XmcText("", "nothing", ""), d.PointTexts[1]);
        Assert.Equal(0, d.Labels.RowLength(1));
    }

    [Theory]
    [InlineData("{\"title\":\"t\",\"target_ind\":[3]}", "trn.json:1:28: label id 3 is not below the 3 labels of the label file")]
    [InlineData("{\"title\":\"t\",\"target_ind\":[0,2,0]}", "trn.json:1:32: a label id is given twice in \"target_ind\"")]
    [InlineData("{\"title\":\"t\",\"target_ind\":[-1]}", "trn.json:1:28: a label id in \"target_ind\" is not a non-negative integer")]
    [InlineData("{\"title\":\"t\",\"target_ind\":[1.5]}", "trn.json:1:28: a label id in \"target_ind\" is not a non-negative integer")]
    [InlineData("{\"title\":\"t\",\"target_ind\":3}", "trn.json:1:27: \"target_ind\" must be an array of label ids")]
    [InlineData("{\"title\":\"t\"}", "trn.json:1:1: missing field \"target_ind\"")]
    [InlineData("{\"target_ind\":[]}", "trn.json:1:1: missing field \"title\"")]
    [InlineData("{\"title\":5,\"target_ind\":[]}", "trn.json:1:10: field \"title\" must be a string")]
    [InlineData("{\"title\":\"t\",\"title\":\"u\",\"target_ind\":[]}", "trn.json:1:14: field \"title\" given twice")]
    [InlineData("{\"title\":\"t\",\"target_ind\":[0,1],\"target_rel\":[1]}", "trn.json:1:33: \"target_rel\" has 1 values for 2 label ids")]
    [InlineData("{\"title\":\"t\",\"target_ind\":[]} x", "trn.json:1:31: malformed JSON")]
    [InlineData("{\"title\":\"t\",\"target_ind\":[]", "trn.json:1:")]
    [InlineData("[1,2]", "trn.json:1:1: expected a JSON object")]
    [InlineData("{\"title\":\"t\",\"target_ind\":[]}\n\n{\"title\":\"t\",\"target_ind\":[]}", "trn.json:2:1: empty line inside the file")]
    public void Bad_lines_name_file_line_byte_column_and_reason(string text, string expectedStart)
    {
        var e = Assert.Throws<XmcDataException>(() => ParsePoints(text));
        Assert.StartsWith(expectedStart, e.Message);
    }

    [Fact]
    public void Blank_lines_at_the_end_are_fine()
        => Assert.Equal(1, ParsePoints("{\"title\":\"t\",\"target_ind\":[2]}\n\n\n").NumPoints);

    [Property(MaxTest = 50)]
    public bool Write_then_read_gives_the_same_data_set(int seed)
    {
        var data = RandomDatasets.Make(seed, withTexts: true);
        var (points, labels) = Write(data);
        var labelTexts = RawTextJsonlReader.ReadLabels(new StringReader(labels), "lbl.json");
        var back = RawTextJsonlReader.ReadPoints(new StringReader(points), "trn.json", labelTexts);
        // the JSON format carries no BoW features: compare labels and texts
        return back.Labels.ContentEquals(data.Labels)
               && back.PointTexts!.SequenceEqual(data.PointTexts!) && back.LabelTexts!.SequenceEqual(data.LabelTexts!);
    }

    [Fact]
    public void Round_trip_through_files_on_disk()
    {
        var data = RandomDatasets.Make(11, withTexts: true);
        string folder = Path.Combine(Path.GetTempPath(), $"xmc-jsonl-{Guid.NewGuid():N}");
        try
        {
            RawTextJsonlWriter.Write(data, Path.Combine(folder, "trn.json.gz"), Path.Combine(folder, "lbl.json"));
            var back = RawTextJsonlReader.Read(Path.Combine(folder, "trn.json.gz"), Path.Combine(folder, "lbl.json"));
            Assert.True(back.Labels.ContentEquals(data.Labels));
            Assert.Equal(data.PointTexts, back.PointTexts);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // Mutations of a valid point file either parse or fail with a located XmcDataException, within 2 s each.
    [Property(MaxTest = 300)]
    public bool Mutated_files_fail_only_with_located_data_errors(int seed, byte mutations)
    {
        var r = new Random(seed);
        var data = RandomDatasets.Make(r.Next(), withTexts: true);
        var text = FuzzedDataFiles.Mutate(r, Write(data).Points, "{}[]\",:0123456789-.e \n\\u\"tx", mutations);
        return FuzzedDataFiles.ParsesOrFailsLocated(text, "trn.json", t => ParsePoints(t, data.LabelTexts));
    }
}

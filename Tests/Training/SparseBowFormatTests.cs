using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Training.Data;

namespace Xmc.Tests.Training;

public class SparseBowFormatTests
{
    private static XmcDataset Parse(string text) => SparseBowReader.Read(new StringReader(text), "t.txt");

    private static string Write(XmcDataset data)
    {
        var w = new StringWriter();
        SparseBowWriter.Write(data, w);
        return w.ToString();
    }

    private static XmcDataException Fails(string text) => Assert.Throws<XmcDataException>(() => Parse(text));

    [Fact]
    public void Reads_labels_features_and_every_form_of_empty_label_field()
    {
        var d = Parse("5 6 4\n2,0 3:0.5 1:1.5\n 4:2\n5:1e-3\n\n3\n");
        Assert.Equal((5, 6, 4), (d.NumPoints, d.NumFeatures, d.NumLabels));
        Assert.Equal([0, 2], d.Labels.Row(0).ToArray());
        Assert.Equal([1, 3], d.Features.Row(0).ToArray()); // sorted, values follow their ids
        Assert.Equal([1.5f, 0.5f], d.Features.RowValues(0).ToArray());
        Assert.Equal(0, d.Labels.RowLength(1));
        Assert.Equal([4], d.Features.Row(1).ToArray());
        Assert.Equal(0, d.Labels.RowLength(2));
        Assert.Equal([0.001f], d.Features.RowValues(2).ToArray());
        Assert.Equal(0, d.Labels.RowLength(3) + d.Features.RowLength(3));
        Assert.Equal([3], d.Labels.Row(4).ToArray());
        Assert.Equal(0, d.Features.RowLength(4));
    }

    [Fact]
    public void Tolerates_trailing_blank_lines_and_crlf()
    {
        var d = Parse("1 2 2\r\n1 0:1\r\n\r\n\n");
        Assert.Equal(1, d.NumPoints);
    }

    [Theory]
    [InlineData("", "t.txt:1:1: the file is empty")]
    [InlineData("3 4\n", "t.txt:1:4: the header has 2 numbers, expected 3")]
    [InlineData("1 4 2 7\n", "t.txt:1:7: the header has more than three numbers")]
    [InlineData("1 x 2\n", "t.txt:1:3: bad number 'x' in the header")]
    [InlineData("1 -4 2\n", "t.txt:1:3: bad number '-4' in the header")]
    [InlineData("1 4 2\n0 2:zz\n", "t.txt:2:5: bad feature value 'zz'")]
    [InlineData("1 4 2\n0 2:NaN\n", "t.txt:2:5: bad feature value 'NaN'")]
    [InlineData("1 4 2\n0 a:1\n", "t.txt:2:3: bad feature id 'a'")]
    [InlineData("1 4 2\n0,,1 2:1\n", "t.txt:2:3: empty label id")]
    [InlineData("1 4 2\n0, 2:1\n", "t.txt:2:3: empty label id")]
    [InlineData("1 4 2\n0 4:1\n", "t.txt:2:3: feature id 4 is not below the header's 4 features")]
    [InlineData("1 4 2\n1,2 3:1\n", "t.txt:2:3: label id 2 is not below the header's 2 labels")]
    [InlineData("1 4 2\n0 1:1 2\n", "t.txt:2:7: expected `feature:value`, found '2'")]
    [InlineData("1 4 2\n 0,1 2:1\n", "t.txt:2:2: expected `feature:value`, found '0,1'")]
    [InlineData("2 4 2\n0 1:1\n", "t.txt:3:1: the file ends after 1 points but the header says 2")]
    [InlineData("1 4 2\n0 1:1\n1 1:1\n", "t.txt:3:1: more point lines than the header's 1")]
    [InlineData("1 4 2\n0 1:1\n\n1 1:1\n", "t.txt:4:1: more point lines than the header's 1")]
    [InlineData("1 4 3\n2,0,2 1:1\n", "t.txt:2:5: a label id is given twice on this line")]
    [InlineData("1 4 3\n0 3:1 1:2 3:4\n", "t.txt:2:11: a feature id is given twice on this line")]
    [InlineData("1 4 3\n0 1:1 1:2\n", "t.txt:2:7: a feature id is given twice on this line")]
    public void Bad_input_names_file_line_column_and_reason(string text, string expectedStart)
    {
        var e = Fails(text);
        Assert.StartsWith(expectedStart, e.Message);
        // every message also says what to do after the reason
        Assert.Matches(@"\. [A-Z].+", e.Message[expectedStart.Length..]);
    }

    [Fact]
    public void Missing_file_is_a_data_error_naming_it()
    {
        var e = Assert.Throws<XmcDataException>(() => SparseBowReader.Read("/nonexistent/x.txt"));
        Assert.StartsWith("/nonexistent/x.txt: file not found", e.Message);
    }

    [Property(MaxTest = 50)]
    public bool Write_then_read_gives_the_same_data_set(int seed)
    {
        var data = RandomDatasets.Make(seed, withTexts: false);
        return Parse(Write(data)).ContentEquals(data);
    }

    [Fact]
    public void Round_trip_through_a_gzip_file_on_disk()
    {
        var data = RandomDatasets.Make(7, withTexts: false);
        string path = Path.Combine(Path.GetTempPath(), $"xmc-bow-{Guid.NewGuid():N}.txt.gz");
        try
        {
            SparseBowWriter.Write(data, path);
            Assert.True(SparseBowReader.Read(path).ContentEquals(data));
        }
        finally
        {
            File.Delete(path);
        }
    }

    // Mutations of a valid file: each either still parses or fails with an XmcDataException that carries a
    // line and column; any other exception fails the property, and each parse must finish well within 2 s.
    [Property(MaxTest = 300)]
    public bool Mutated_files_fail_only_with_located_data_errors(int seed, byte mutations)
    {
        var r = new Random(seed);
        var text = FuzzedDataFiles.Mutate(r, Write(RandomDatasets.Make(r.Next(), withTexts: false)), "0123456789 ,:.-e\n\t\rx\0+E9", mutations);
        return FuzzedDataFiles.ParsesOrFailsLocated(text, "t.txt", t => Parse(t));
    }
}

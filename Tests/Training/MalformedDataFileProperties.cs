using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Training.Data;

namespace Xmc.Tests.Training;

/// <summary>Issue 19, item 6: generated valid and hostile data files (<see cref="MalformedBowFiles"/>,
/// <see cref="MalformedJsonlFiles"/>; 10 000 cases between them, in process, a few seconds). Every outcome is either the
/// correct parse of a valid file or an <see cref="XmcDataException"/> naming the file and the line of the first error —
/// never another exception, a silently accepted damage, or a hang.</summary>
public sealed class MalformedDataFileProperties
{
    private const string BowName = "fuzz.txt";
    private const string JsonlName = "fuzz.jsonl";

    [Property(MaxTest = 5000)]
    public Property Sparse_bow_files_parse_correctly_or_fail_at_the_first_bad_line()
        => Prop.ForAll(MalformedBowFiles.Files().ToArbitrary(), c =>
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var d = SparseBowReader.Read(new StringReader(c.Text), BowName);
                Check(c.Valid, $"a damaged file was accepted:\n{c}");
                Check(d.NumFeatures == c.Features && d.NumLabels == c.Labels && d.NumPoints == c.PointLabels.Length, $"wrong sizes for\n{c}");
                for (int i = 0; i < d.NumPoints; i++)
                {
                    Check(d.Labels.Row(i).SequenceEqual(c.PointLabels[i]), $"point {i}: wrong labels in\n{c}");
                    var ids = d.Features.Row(i).ToArray();
                    var values = d.Features.RowValues(i).ToArray();
                    Check(ids.SequenceEqual(c.PointFeatures[i].Select(f => f.Id).ToArray()), $"point {i}: wrong feature ids in\n{c}");
                    Check(values.SequenceEqual(c.PointFeatures[i].Select(f => f.Value).ToArray()), $"point {i}: wrong values in\n{c}");
                }
            }
            catch (XmcDataException e)
            {
                Check(!c.Valid, $"a valid file was refused ({e.Message}):\n{c}");
                CheckLocated(e, BowName, c.ErrorLine, c.ToString());
            }
            Check(clock.ElapsedMilliseconds < 2000, $"took {clock.ElapsedMilliseconds} ms:\n{c}");
        });

    [Property(MaxTest = 5000)]
    public Property Jsonl_point_files_parse_correctly_or_fail_at_the_first_bad_line()
        => Prop.ForAll(MalformedJsonlFiles.Files().ToArbitrary(), c =>
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var d = RawTextJsonlReader.ReadPoints(new StringReader(c.Text), JsonlName, MalformedJsonlFiles.Labels);
                Check(c.Valid, $"a damaged file was accepted:\n{c}");
                Check(d.NumPoints == c.Texts.Length && d.NumLabels == MalformedJsonlFiles.Labels.Length, $"wrong sizes for\n{c}");
                Check(d.PointTexts!.SequenceEqual(c.Texts), $"wrong texts in\n{c}");
                for (int i = 0; i < d.NumPoints; i++)
                {
                    Check(d.Labels.Row(i).SequenceEqual(c.PointLabels[i]), $"point {i}: wrong labels in\n{c}");
                }
            }
            catch (XmcDataException e)
            {
                Check(!c.Valid, $"a valid file was refused ({e.Message}):\n{c}");
                CheckLocated(e, JsonlName, c.ErrorLine, c.ToString());
            }
            Check(clock.ElapsedMilliseconds < 2000, $"took {clock.ElapsedMilliseconds} ms:\n{c}");
        });

    private static void CheckLocated(XmcDataException e, string file, long? line, string text)
    {
        Check(e.FileName == file && e.Line is not null && e.Column is not null && e.Message.StartsWith($"{file}:{e.Line}:{e.Column}: ", StringComparison.Ordinal),
            $"unlocated error '{e.Message}' for\n{text}");
        Check(line is null || e.Line == line, $"error at line {e.Line}, expected {line}: '{e.Message}' for\n{text}");
    }

    private static void Check(bool ok, string message)
    {
        if (!ok)
        {
            throw new Xunit.Sdk.XunitException(message);
        }
    }
}

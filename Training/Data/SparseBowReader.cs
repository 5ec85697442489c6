using Xmc.Engine;
using System.Globalization;

namespace Xmc.Training.Data;

/// <summary>
/// Reads the Extreme Classification Repository's sparse bag-of-words text format, streaming line by line:
/// a header <c>points features labels</c>, then one line per point, <c>l1,l2,… f:v f:v …</c>, ids 0-based.
/// A point without labels has an empty label field: its line starts with a space, or directly with a
/// <c>f:v</c> pair, or is empty. Everything is validated; the first problem throws an
/// <see cref="XmcDataException"/> naming file, line and column.
/// </summary>
public static class SparseBowReader
{
    /// <summary>Reads a file (gzip-compressed when its name ends in <c>.gz</c>).</summary>
    public static XmcDataset Read(string path)
    {
        using var reader = DataFile.OpenText(path);
        return Read(reader, path);
    }

    /// <summary>Reads from <paramref name="reader"/>; <paramref name="source"/> names it in error messages.</summary>
    public static XmcDataset Read(TextReader reader, string source) => new Parser(reader, source).Run();

    private sealed class Parser(TextReader reader, string source)
    {
        private const string FormatHint = "Each line is `l1,l2,… f:v f:v …` with 0-based integer ids and finite values";
        private readonly PendingRow _labels = new();
        private readonly PendingRow _features = new();
        private long _line;
        private int _numFeatures;
        private int _numLabels;

        public XmcDataset Run()
        {
            var (points, features, labels) = ReadHeader();
            _numFeatures = features;
            _numLabels = labels;
            int expected = Math.Min(points, 1 << 16);
            var featureRows = new CsrMatrixBuilder(withValues: true, expected);
            var labelRows = new CsrMatrixBuilder(withValues: false, expected);
            // A blank line is a point without labels and features; when the file then has more point lines than the
            // header says, the blank line is the likelier culprit than the last line, so the error points at it.
            long firstBlank = 0;
            for (int i = 0; i < points; i++)
            {
                string? line = NextLine();
                if (line is null)
                    throw Error(_line + 1, 1, $"the file ends after {i} points but the header says {points}",
                        "Fix the header's point count or restore the missing lines");
                if (firstBlank == 0 && line.AsSpan().IsWhiteSpace())
                    firstBlank = _line;
                ParsePoint(line);
                featureRows.AppendRow(_features.Ids, _features.Values);
                labelRows.AppendRow(_labels.Ids, default);
            }
            while (NextLine() is { } extra)
            {
                if (!extra.AsSpan().IsWhiteSpace())
                {
                    throw firstBlank > 0
                        ? BlankLineError(firstBlank, $"line {_line} is one more point line than the header's {points}")
                        : Error(_line, 1, $"more point lines than the header's {points}",
                            "Fix the header's point count or remove the extra lines");
                }
            }
            return new XmcDataset(featureRows.Build(features), labelRows.Build(labels));
        }

        private XmcDataException BlankLineError(long line, string count)
            => Error(line, 1, $"blank line: it counts as a point without labels and features, and then {count}",
                "Remove the blank line (or give the point its labels and features)");

        private (int Points, int Features, int Labels) ReadHeader()
        {
            string header = NextLine()
                ?? throw Error(1, 1, "the file is empty", "Expected the header line `points features labels`");
            Span<int> counts = stackalloc int[3];
            int pos = 0, n = 0;
            var s = header.AsSpan();
            while (true)
            {
                pos = SkipSpaces(s, pos);
                if (pos >= s.Length)
                    break;
                int end = TokenEnd(s, pos);
                if (n == 3)
                    throw Error(_line, pos + 1, $"the header has more than three numbers ('{Show(s[pos..end])}')",
                        "The header is `points features labels`");
                if (!int.TryParse(s[pos..end], NumberStyles.None, CultureInfo.InvariantCulture, out counts[n]))
                    throw Error(_line, pos + 1, $"bad number '{Show(s[pos..end])}' in the header",
                        "The header is `points features labels`, three non-negative integers");
                n++;
                pos = end;
            }
            if (n < 3)
                throw Error(_line, pos + 1, $"the header has {n} numbers, expected 3",
                    "The header is `points features labels`, three non-negative integers");
            return (counts[0], counts[1], counts[2]);
        }

        private void ParsePoint(string line)
        {
            _labels.Clear();
            _features.Clear();
            var s = line.AsSpan();
            int pos = 0;
            if (s.Length > 0 && !IsSpace(s[0]))
            {
                int end = TokenEnd(s, 0);
                if (s[..end].IndexOf(':') < 0)
                {
                    ParseLabels(s[..end]);
                    pos = end;
                }
            }
            while ((pos = SkipSpaces(s, pos)) < s.Length)
            {
                int end = TokenEnd(s, pos);
                ParseFeature(s[pos..end], pos);
                pos = end;
            }
            long repeat = _labels.SortAndFindRepeat();
            if (repeat >= 0)
                throw Error(_line, repeat, "a label id is given twice on this line", "List each label of a point once");
            repeat = _features.SortAndFindRepeat();
            if (repeat >= 0)
                throw Error(_line, repeat, "a feature id is given twice on this line", "List each feature of a point once");
        }

        private void ParseLabels(ReadOnlySpan<char> field)
        {
            int start = 0;
            while (true)
            {
                int comma = field[start..].IndexOf(',');
                int end = comma < 0 ? field.Length : start + comma;
                int id = ParseId(field[start..end], start, "label", _numLabels);
                _labels.Add(id, 1f, start + 1);
                if (comma < 0)
                    return;
                start = end + 1;
            }
        }

        private void ParseFeature(ReadOnlySpan<char> token, int start)
        {
            int colon = token.IndexOf(':');
            if (colon < 0)
                throw Error(_line, start + 1, $"expected `feature:value`, found '{Show(token)}'",
                    FormatHint + "; a point without labels starts its line with a space");
            int id = ParseId(token[..colon], start, "feature", _numFeatures);
            var text = token[(colon + 1)..];
            if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
                throw Error(_line, start + colon + 2, $"bad feature value '{Show(text)}'", FormatHint);
            _features.Add(id, value, start + 1);
        }

        private int ParseId(ReadOnlySpan<char> text, int start, string kind, int limit)
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                throw Error(_line, start + 1, text.IsEmpty ? $"empty {kind} id" : $"bad {kind} id '{Show(text)}'", FormatHint);
            if (id >= limit)
                throw Error(_line, start + 1, $"{kind} id {id} is not below the header's {limit} {kind}s",
                    $"Ids are 0-based: fix the id or the header's {kind} count");
            return id;
        }

        private string? NextLine()
        {
            try
            {
                string? line = reader.ReadLine();
                if (line is not null)
                {
                    _line++;
                    // number parsing accepts trailing NULs ("3\0" reads as 3), so they are refused here
                    int nul = line.AsSpan().IndexOf('\0');
                    if (nul >= 0)
                        throw Error(_line, nul + 1, "NUL character in the line", "The file is binary or damaged: " + FormatHint);
                }
                return line;
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new XmcDataException(source, _line + 1, 1, $"cannot read the file ({e.Message})",
                    "The file may be truncated or damaged; fetch it again");
            }
        }

        private XmcDataException Error(long line, long column, string reason, string remedy)
            => new(source, line, column, reason, remedy);
    }

    internal static bool IsSpace(char c) => c is ' ' or '\t';

    internal static int SkipSpaces(ReadOnlySpan<char> s, int pos)
    {
        while (pos < s.Length && IsSpace(s[pos]))
            pos++;
        return pos;
    }

    internal static int TokenEnd(ReadOnlySpan<char> s, int pos)
    {
        while (pos < s.Length && !IsSpace(s[pos]))
            pos++;
        return pos;
    }

    /// <summary>A token quoted in a message, shortened so a garbage line cannot flood the terminal.</summary>
    internal static string Show(ReadOnlySpan<char> token)
        => token.Length <= 40 ? token.ToString() : string.Concat(token[..37], "...");
}

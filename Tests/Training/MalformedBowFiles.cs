using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Xmc.Tests.Training;

/// <summary>A generated sparse-BoW file and what reading it must give: the points it holds when it is valid, else the
/// line of its first error (null where several lines could be blamed: a point count that disagrees with the header).</summary>
internal sealed record BowCase(string Text, bool Valid, long? ErrorLine, int Features, int Labels, int[][] PointLabels, (int Id, float Value)[][] PointFeatures)
{
    public override string ToString() => Text.Replace("\0", "\\0", StringComparison.Ordinal);
}

/// <summary>FsCheck generators of sparse bag-of-words files, valid and hostile: header variants, separators, label and
/// feature tokens of every kind the format refuses (signs, overflow, NaN, infinity by overflow, non-ASCII digits, NUL,
/// NBSP, repeats, missing colons), blank lines, CRLF, point counts that disagree with the header. Each token carries
/// whether it is valid, so the expected outcome is known without a second parser.</summary>
internal static class MalformedBowFiles
{
    private static readonly (string Text, float Value)[] GoodValues =
    [
        ("1", 1), ("0.5", 0.5f), ("3", 3), ("-2.5", -2.5f), ("+1", 1), ("0", 0), ("-0", -0f), (".5", 0.5f), ("5.", 5), ("1E5", 1e5f),
        ("3e38", 3e38f), ("3.4028235e38", float.MaxValue), ("1e-40", 1e-40f), ("0000.25", 0.25f), ("7e-3", 7e-3f),
    ];

    private static readonly string[] BadValues =
        ["", "1e39", "-1e39", "NaN", "Infinity", "-Infinity", "inf", "1.2.3", "e5", "1e", "0x10", "1,5", "1\0", "\0", "∞", "１", "٣", "1_0", "--1"];

    private static readonly string[] BadIds = ["", "-1", "+1", "2147483648", "99999999999", "1.0", "1e2", "x", "١", "１", "0x1", "1\0", " "];

    private static readonly string[] Separators = [" ", "\t", "  ", " \t "];

    /// <summary>A valid point: distinct label and feature ids, valid values.</summary>
    private static Gen<(int[] Labels, (int Id, string Text, float Value)[] Features)> Point(int features, int labels)
        => from labelCount in Gen.Choose(0, Math.Min(3, labels))
           from labelIds in Gen.Shuffle(Enumerable.Range(0, labels).ToArray())
           from featureCount in Gen.Choose(0, Math.Min(4, features))
           from featureIds in Gen.Shuffle(Enumerable.Range(0, features).ToArray())
           from values in Gen.ArrayOf(Gen.Elements(GoodValues), 4)
           select (labelIds.Take(labelCount).ToArray(),
               featureIds.Take(featureCount).Select((id, i) => (id, values[i].Text, values[i].Value)).ToArray());

    /// <summary>How a point line is damaged (0 = not at all).</summary>
    private enum Damage { None, BadLabel, BadFeatureId, BadValue, RepeatLabel, RepeatFeature, Nul, Nbsp, NoColon, OutOfRangeFeature, OutOfRangeLabel }

    private static string Render((int[] Labels, (int Id, string Text, float Value)[] Features) p, Damage damage, int features, int labels, Random r)
    {
        string Sep() => Separators[r.Next(Separators.Length)];
        string Id(int id) => r.Next(5) == 0 ? "00" + id : id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var labelTokens = p.Labels.Select(Id).ToList();
        var featureTokens = p.Features.Select(f => $"{Id(f.Id)}:{f.Text}").ToList();
        switch (damage)
        {
            case Damage.BadLabel:
                labelTokens.Insert(r.Next(labelTokens.Count + 1), BadIds[r.Next(BadIds.Length)].Replace(" ", "", StringComparison.Ordinal) is { Length: > 0 } bad ? bad : "");
                if (labelTokens.Count == 1 && labelTokens[0].Length == 0)
                {
                    labelTokens.Add("0"); // ",0": an empty id before the comma
                }
                break;
            case Damage.BadFeatureId:
                featureTokens.Insert(r.Next(featureTokens.Count + 1), $"{BadIds[r.Next(BadIds.Length)]}:1");
                break;
            case Damage.BadValue:
                featureTokens.Insert(r.Next(featureTokens.Count + 1), $"{r.Next(features)}:{BadValues[r.Next(BadValues.Length)]}");
                break;
            case Damage.RepeatLabel:
                labelTokens.Add(labelTokens.Count > 0 ? labelTokens[r.Next(labelTokens.Count)] : "0");
                if (labelTokens.Count == 1)
                {
                    labelTokens.Add("0");
                }
                break;
            case Damage.RepeatFeature:
                featureTokens.Add(p.Features.Length > 0 ? $"{p.Features[r.Next(p.Features.Length)].Id}:2" : "0:1");
                if (p.Features.Length == 0)
                {
                    featureTokens.Add("0:2");
                }
                break;
            case Damage.OutOfRangeFeature:
                featureTokens.Insert(r.Next(featureTokens.Count + 1), $"{features + r.Next(3)}:1");
                break;
            case Damage.OutOfRangeLabel:
                labelTokens.Insert(r.Next(labelTokens.Count + 1), (labels + r.Next(3)).ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            case Damage.NoColon:
                featureTokens.Insert(r.Next(featureTokens.Count + 1), r.Next(2) == 0 ? "abc" : "12");
                if (labelTokens.Count == 0 && featureTokens.Count == 1 && featureTokens[0] == "12")
                {
                    featureTokens[0] = "abc"; // a lone "12" at the start would be a valid label field
                }
                break;
        }
        var sb = new StringBuilder();
        bool labelField = labelTokens.Count > 0;
        if (labelField)
        {
            sb.Append(string.Join(',', labelTokens));
        }
        else if (featureTokens.Count > 0 && (r.Next(2) == 0 || damage == Damage.NoColon))
        {
            sb.Append(Sep());
        }
        for (int i = 0; i < featureTokens.Count; i++)
        {
            if (i > 0 || labelField || (sb.Length == 0 && r.Next(2) == 0))
            {
                sb.Append(Sep());
            }
            sb.Append(featureTokens[i]);
        }
        if (r.Next(6) == 0)
        {
            sb.Append(Sep()); // trailing white space
        }
        if (damage == Damage.Nul)
        {
            sb.Insert(r.Next(sb.Length + 1), '\0');
        }
        else if (damage == Damage.Nbsp && featureTokens.Count > 0)
        {
            // a no-break space is not a separator: it joins two tokens into one bad one
            sb.Append('\u00A0').Append("1:1");
        }
        else if (damage == Damage.Nbsp)
        {
            sb.Append(" 1:1\u00A0");
        }
        return sb.ToString();
    }

    /// <summary>Files of 0–6 points over 1–12 features and 1–6 labels; about half of them damaged somewhere.</summary>
    public static Gen<BowCase> Files()
        => from features in Gen.Choose(1, 12)
           from labels in Gen.Choose(1, 6)
           from points in Gen.Choose(0, 6)
           from pointList in Gen.ArrayOf(Point(features, labels), points)
           from damageAt in Gen.Choose(-2, 2 * points) // -2: header, -1 or ≥ points: none, else that point
           from damage in Gen.Elements(Enum.GetValues<Damage>().Skip(1).ToArray())
           from countShift in Gen.Frequency((6, Gen.Constant(0)), (1, Gen.Choose(-2, 2)))
           from crlf in Gen.Elements(false, true)
           from trailingBlank in Gen.Choose(0, 2)
           from seed in Gen.Choose(0, int.MaxValue)
           select Build(features, labels, pointList, damageAt, damage, countShift, crlf, trailingBlank, new Random(seed));

    private static BowCase Build(int features, int labels, (int[] Labels, (int Id, string Text, float Value)[] Features)[] points, int damageAt,
        Damage damage, int countShift, bool crlf, int trailingBlank, Random r)
    {
        string nl = crlf ? "\r\n" : "\n";
        int headerPoints = Math.Max(0, points.Length + countShift);
        var header = $"{headerPoints} {features} {labels}";
        bool headerBad = damageAt == -2;
        if (headerBad)
        {
            header = r.Next(7) switch
            {
                0 => $"{headerPoints} {features}",
                1 => $"{headerPoints} {features} {labels} 4",
                2 => $"-{headerPoints + 1} {features} {labels}",
                3 => $"{headerPoints} 2147483648 {labels}",
                4 => $"{headerPoints}\0 {features} {labels}",
                5 => $"{headerPoints},{features},{labels}",
                _ => $"{headerPoints} {features} {labels}x",
            };
        }
        else if (r.Next(4) == 0)
        {
            header = $"\t{headerPoints}  0{features}\t{labels} ";
        }
        var lines = new List<(string Text, bool Damaged)>();
        for (int i = 0; i < points.Length; i++)
        {
            lines.Add((Render(points[i], i == damageAt ? damage : Damage.None, features, labels, r), i == damageAt));
        }
        for (int i = 0; i < trailingBlank; i++)
        {
            lines.Add((r.Next(2) == 0 ? "" : " ", false));
        }
        var text = new StringBuilder(header).Append(nl);
        foreach (var line in lines)
        {
            text.Append(line.Text).Append(nl);
        }
        // what the reader must make of it: the header's count of lines are points (a blank one a point without
        // labels and features); lines after them may only be blank
        bool valid = !headerBad;
        long? errorLine = headerBad ? 1 : null;
        int read = Math.Min(headerPoints, lines.Count);
        for (int i = 0; valid && i < read; i++)
        {
            if (lines[i].Damaged)
            {
                valid = false;
                errorLine = i + 2;
            }
        }
        if (valid && headerPoints > lines.Count)
        {
            valid = false;
            errorLine = lines.Count + 2; // "the file ends after … points"
        }
        if (valid && lines.Skip(headerPoints).Any(l => !l.Text.AsSpan().IsWhiteSpace()))
        {
            valid = false; // the first extra line, or a blank line among the points: either may be named
        }
        var empty = (Labels: Array.Empty<int>(), Features: Array.Empty<(int, float)>());
        var expected = Enumerable.Range(0, valid ? headerPoints : 0)
            .Select(i => i < points.Length ? (points[i].Labels.Order().ToArray(), points[i].Features.Select(f => (f.Id, f.Value)).OrderBy(f => f.Id).ToArray()) : empty)
            .ToArray();
        return new BowCase(text.ToString(), valid, errorLine, features, labels, expected.Select(e => e.Item1).ToArray(), expected.Select(e => e.Item2).ToArray());
    }
}

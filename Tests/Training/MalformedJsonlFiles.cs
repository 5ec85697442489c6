using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Xmc.Training.Data;

namespace Xmc.Tests.Training;

/// <summary>A generated raw-text JSONL point file over <see cref="MalformedJsonlFiles.Labels"/> and what reading it must
/// give: its points when valid, else the line of its first error.</summary>
internal sealed record JsonlCase(string Text, bool Valid, long ErrorLine, XmcText[] Texts, int[][] PointLabels)
{
    public override string ToString() => Text.Replace("\0", "\\0", StringComparison.Ordinal);
}

/// <summary>FsCheck generators of LF-* point files, valid and hostile: fields in any order, optional and unknown fields
/// (nested), escapes, and every damage the reader must refuse at its line — missing or mistyped fields, ids out of
/// range, negative, fractional or repeated, fields given twice, <c>target_rel</c> of the wrong length, lone surrogate
/// escapes, raw control characters and NUL, truncated or trailing text, nesting too deep, a blank line inside.</summary>
internal static class MalformedJsonlFiles
{
    public static readonly XmcText[] Labels = [new("a", "alpha", ""), new("b", "beta", ""), new("c", "gamma", ""), new("d", "delta", "")];

    /// <summary>JSON string bodies (escaped as written) and the text they stand for.</summary>
    private static readonly (string Json, string Text)[] Strings =
    [
        ("", ""), ("plain words", "plain words"), ("é 日本", "é 日本"), ("tab\\tnew\\nline", "tab\tnew\nline"), ("q\\\"uote\\\\", "q\"uote\\"),
        ("\\u00e9\\u0041", "éA"), ("\\ud83d\\ude00 smile", "\U0001F600 smile"), ("slash\\/", "slash/"), ("nul\\u0000escaped", "nul\0escaped"),
    ];

    private enum Damage
    {
        None, MissingTitle, TitleNotString, MissingTargets, TargetsNotArray, IdOutOfRange, IdNegative, IdFraction, IdHuge, IdRepeated,
        TitleTwice, TargetsTwice, RelWrongLength, RelNotNumber, LoneSurrogate, RawControl, RawNul, Truncated, Trailing, TwoObjects,
        NotAnObject, TooDeep, BadEscape, BlankLine,
    }

    private sealed record Point(string Uid, int UidKind, (string Json, string Text) Title, (string Json, string Text)? Content, int[] Targets, bool Rel, bool Unknown, int[] Order);

    private static Gen<Point> Points()
        => from uid in Gen.Choose(0, 999)
           from uidKind in Gen.Choose(0, 2) // absent, string, number
           from title in Gen.Elements(Strings)
           from hasContent in Gen.Elements(false, true)
           from content in Gen.Elements(Strings)
           from count in Gen.Choose(0, Labels.Length)
           from ids in Gen.Shuffle(Enumerable.Range(0, Labels.Length).ToArray())
           from rel in Gen.Elements(false, true)
           from unknown in Gen.Elements(false, true)
           from order in Gen.Shuffle(Enumerable.Range(0, 6).ToArray())
           select new Point(uid.ToString(System.Globalization.CultureInfo.InvariantCulture), uidKind, title, hasContent ? content : null, ids.Take(count).ToArray(), rel, unknown, order);

    private static string Render(Point p, Damage d, Random r)
    {
        var fields = new List<string>();
        var targets = p.Targets.Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        string titleJson = p.Title.Json;
        switch (d)
        {
            case Damage.IdOutOfRange: targets.Insert(r.Next(targets.Count + 1), (Labels.Length + r.Next(5)).ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            case Damage.IdNegative: targets.Insert(r.Next(targets.Count + 1), "-1"); break;
            case Damage.IdFraction: targets.Insert(r.Next(targets.Count + 1), "1.5"); break;
            case Damage.IdHuge: targets.Insert(r.Next(targets.Count + 1), r.Next(2) == 0 ? "1e400" : "4294967297"); break;
            case Damage.IdRepeated: targets.Add(targets.Count > 0 ? targets[0] : "0"); if (targets.Count == 1) targets.Add("0"); break;
            case Damage.LoneSurrogate: titleJson += r.Next(2) == 0 ? "\\ud800" : "x\\udfffy"; break;
            case Damage.RawControl: titleJson += "\u0001"; break;
            case Damage.RawNul: titleJson += "\0"; break;
            case Damage.BadEscape: titleJson += "\\x41"; break;
        }
        string rel = d == Damage.RelWrongLength ? string.Join(',', Enumerable.Repeat("0.5", targets.Count + 1))
            : d == Damage.RelNotNumber ? string.Join(',', targets.Select(_ => "\"1\"").DefaultIfEmpty("\"1\""))
            : string.Join(',', targets.Select(_ => "1"));
        foreach (int slot in p.Order)
        {
            switch (slot)
            {
                case 0 when p.UidKind == 1: fields.Add($"\"uid\":\"{p.Uid}\""); break;
                case 0 when p.UidKind == 2: fields.Add($"\"uid\":{p.Uid}"); break;
                case 1 when d != Damage.MissingTitle:
                    fields.Add(d == Damage.TitleNotString ? $"\"title\":{(r.Next(2) == 0 ? "12" : "[\"x\"]")}" : $"\"title\":\"{titleJson}\"");
                    if (d == Damage.TitleTwice)
                        fields.Add("\"title\":\"again\"");
                    break;
                case 2 when p.Content is { } c: fields.Add($"\"content\":\"{c.Json}\""); break;
                case 3 when d != Damage.MissingTargets:
                    fields.Add(d == Damage.TargetsNotArray ? "\"target_ind\":{\"0\":1}" : $"\"target_ind\":[{string.Join(',', targets)}]");
                    if (d == Damage.TargetsTwice)
                        fields.Add("\"target_ind\":[]");
                    break;
                case 4 when p.Rel || d is Damage.RelWrongLength or Damage.RelNotNumber: fields.Add($"\"target_rel\":[{rel}]"); break;
                case 5 when p.Unknown || d == Damage.TooDeep:
                    fields.Add(d == Damage.TooDeep ? $"\"extra\":{new string('[', 20)}{new string(']', 20)}" : "\"extra\":{\"nested\":[1,{\"x\":null}],\"s\":\"\\ud800\"}");
                    break;
            }
        }
        string sep = r.Next(3) == 0 ? ", " : ",";
        string line = (r.Next(4) == 0 ? " " : "") + "{" + string.Join(sep, fields) + "}" + (r.Next(4) == 0 ? " \t" : "");
        return d switch
        {
            Damage.Truncated => line.Trim()[..r.Next(1, line.Trim().Length)], // at least "{", never the closing brace
            Damage.Trailing => line + (r.Next(2) == 0 ? "x" : "]"),
            Damage.TwoObjects => line + "{\"title\":\"t\",\"target_ind\":[]}",
            Damage.NotAnObject => r.Next(3) switch { 0 => "[]", 1 => "null", _ => "\"text\"" },
            _ => line,
        };
    }

    /// <summary>Files of 0–6 points; about half of them damaged at one point.</summary>
    public static Gen<JsonlCase> Files()
        => from points in Gen.Choose(0, 6)
           from list in Gen.ArrayOf(Points(), points)
           from damageAt in Gen.Choose(-1, 2 * points - 1)
           from damage in Gen.Elements(Enum.GetValues<Damage>().Skip(1).ToArray())
           from crlf in Gen.Elements(false, true)
           from trailingBlank in Gen.Choose(0, 2)
           from seed in Gen.Choose(0, int.MaxValue)
           select Build(list, damageAt, damage, crlf, trailingBlank, new Random(seed));

    private static JsonlCase Build(Point[] points, int damageAt, Damage damage, bool crlf, int trailingBlank, Random r)
    {
        string nl = crlf ? "\r\n" : "\n";
        var sb = new StringBuilder();
        long line = 0, errorLine = 0;
        for (int i = 0; i < points.Length; i++)
        {
            var d = i == damageAt ? damage : Damage.None;
            if (d == Damage.BlankLine)
            {
                sb.Append(r.Next(2) == 0 ? "" : "  ").Append(nl);
                line++;
                errorLine = line; // a blank line followed by more objects is named at its own line
                d = Damage.None;
            }
            else if (d != Damage.None)
            {
                errorLine = line + 1;
            }
            sb.Append(Render(points[i], d, r)).Append(nl);
            line++;
        }
        for (int i = 0; i < trailingBlank; i++)
        {
            sb.Append(r.Next(2) == 0 ? "" : " ").Append(nl);
        }
        bool valid = errorLine == 0;
        return new JsonlCase(sb.ToString(), valid, errorLine,
            points.Select(p => new XmcText(p.UidKind == 0 ? "" : p.Uid, p.Title.Text, p.Content?.Text ?? "")).ToArray(),
            points.Select(p => p.Targets.Order().ToArray()).ToArray());
    }
}

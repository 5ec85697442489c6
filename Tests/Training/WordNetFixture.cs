using System.Globalization;
using System.Text;

namespace Xmc.Tests.Training;

/// <summary>A small made-up WordNet written in the wndb(5) data-file format (data.noun, data.verb with a licence
/// header): a noun taxonomy entity → 2 → 10 categories → 20 subcategories → 120 leaves, 3 instances (@i) of leaves,
/// domain pointers (;c topic, ;r region, ;u usage), reverse pointers that must not become labels (~ hyponym,
/// -c member of topic), and a verb hierarchy whose offsets repeat noun offsets. <see cref="Ancestors"/> is the
/// expected label set of each synset before any cut, computed here from the same edges.</summary>
internal sealed class WordNetFixture
{
    internal sealed record Synset(char Pos, int Offset, string[] Lemmas, List<(string Symbol, Synset Target)> Pointers, string Gloss)
    {
        public string Title => string.Join(", ", Lemmas.Select(l => l.Replace('_', ' ')));
    }

    private readonly List<Synset> _all = [];

    public WordNetFixture(int extraVerbs = 0)
    {
        var entity = Noun("entity", "that which exists");
        var physical = Noun("physical_entity", "an entity that has physical existence", ("@", entity));
        var abstraction = Noun("abstraction", "a general concept", ("@", entity));
        Zoology = Noun("zoology", "the branch of biology that studies animals", ("@", abstraction));
        var region = Noun("northland", "a region in the north", ("@", abstraction));
        var slang = Noun("slang", "informal language", ("@", abstraction));
        for (int i = 0; i < 10; i++)
        {
            var category = Noun($"kind{i}", $"a broad kind number k{i} of things", ("@", i % 2 == 0 ? physical : abstraction));
            for (int j = 0; j < 2; j++)
            {
                var sub = Noun($"sort{i}x{j}", $"a sort s{i}x{j} of kind k{i}; \"the sort{i}x{j} was seen\"", ("@", category));
                category.Pointers.Add(("~", sub));
                for (int k = 0; k < 6; k++)
                {
                    var leaf = Noun($"item{i}x{j}x{k}", $"an item of sort s{i}x{j} with trait t{k} and shade h{(k + i) % 4}; \"the item{i}x{j}x{k} shines\"", ("@", sub));
                    if (i == 1)
                    {
                        leaf.Pointers.Add((";c", Zoology));
                        Zoology.Pointers.Add(("-c", leaf));
                    }
                    if (i == 2 && k < 2)
                    {
                        leaf.Pointers.Add((";r", region));
                    }
                    if (i == 3 && k < 2)
                    {
                        leaf.Pointers.Add((";u", slang));
                    }
                    if (i == 0 && j == 0 && k < 3)
                    {
                        Instances.Add(Noun($"Named_Thing{k}", $"a famous item{i}x{j}x{k}", ("@i", leaf)));
                    }
                }
            }
        }
        var move = Verb("move", "change place");
        var travel = Verb("travel", "go from place to place", ("@", move));
        for (int g = 0; g < 2; g++)
        {
            var group = Verb(g == 0 ? "run" : "walk", g == 0 ? "move fast on foot" : "move on foot slowly", ("@", travel));
            for (int k = 0; k < 5 + (g == 0 ? extraVerbs : 0); k++)
            {
                var way = Verb($"{group.Lemmas[0]}_way{k}", $"{group.Lemmas[0]} in manner m{k}; \"they {group.Lemmas[0]} m{k}\"", ("@", group));
                if (k == 0)
                {
                    way.Pointers.Add((";u", slang));
                }
            }
        }
    }

    public List<Synset> Instances { get; } = [];

    public Synset Zoology { get; }

    public IReadOnlyList<Synset> All => _all;

    private Synset Noun(string lemma, string gloss, params (string, Synset)[] pointers) => Add('n', lemma, gloss, pointers);

    private Synset Verb(string lemma, string gloss, params (string, Synset)[] pointers) => Add('v', lemma, gloss, pointers);

    private Synset Add(char pos, string lemma, string gloss, (string, Synset)[] pointers)
    {
        // offsets count per part of speech from the same start, so noun and verb offsets repeat
        int offset = 1000 + 37 * _all.Count(s => s.Pos == pos);
        var lemmas = pos == 'n' && lemma.StartsWith("item", StringComparison.Ordinal) ? new[] { lemma, lemma + "_alias" } : new[] { lemma };
        var synset = new Synset(pos, offset, lemmas, [.. pointers], gloss);
        _all.Add(synset);
        return synset;
    }

    /// <summary>The key the builder hashes: part of speech and offset, e.g. <c>n00001037</c>.</summary>
    public static string Key(Synset s) => string.Create(CultureInfo.InvariantCulture, $"{s.Pos}{s.Offset:D8}");

    /// <summary>True when the builder puts <paramref name="s"/> in the test split: CRC-32 (IEEE, reflected
    /// 0xEDB88320, as zlib computes it) of its key is divisible by 5.</summary>
    public static bool InTest(Synset s)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in Encoding.ASCII.GetBytes(Key(s)))
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }
        return (~crc) % 5 == 0;
    }

    /// <summary>Every @/@i ancestor (transitively) and every domain synset (directly) of <paramref name="s"/>.</summary>
    public static HashSet<Synset> Ancestors(Synset s)
    {
        var result = new HashSet<Synset>();
        foreach (var (symbol, target) in s.Pointers)
        {
            if (symbol is "@" or "@i")
            {
                result.Add(target);
                result.UnionWith(Ancestors(target));
            }
            else if (symbol is ";c" or ";r" or ";u")
            {
                result.Add(target);
            }
        }
        return result;
    }

    /// <summary>Writes data.noun and data.verb into <paramref name="folder"/>, the synsets in the given order.</summary>
    public void Write(string folder, bool reversed = false)
    {
        foreach (var (pos, file) in new[] { ('n', "data.noun"), ('v', "data.verb") })
        {
            var text = new StringBuilder();
            text.Append("  1 This is a made-up WordNet in the wndb(5) format, for tests.  \n");
            text.Append("  2 Header lines start with two spaces.  \n");
            var synsets = _all.Where(s => s.Pos == pos);
            foreach (var s in reversed ? synsets.Reverse() : synsets)
            {
                text.Append(Line(s)).Append('\n');
            }
            File.WriteAllText(Path.Combine(folder, file), text.ToString());
        }
    }

    private static string Line(Synset s)
    {
        var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{s.Offset:D8} {(s.Pos == 'n' ? 3 : 29):D2} {s.Pos} {s.Lemmas.Length:x2}"));
        foreach (var lemma in s.Lemmas)
        {
            line.Append(' ').Append(lemma).Append(" 0");
        }
        line.Append(CultureInfo.InvariantCulture, $" {s.Pointers.Count:D3}");
        foreach (var (symbol, target) in s.Pointers)
        {
            line.Append(CultureInfo.InvariantCulture, $" {symbol} {target.Offset:D8} {target.Pos} 0000");
        }
        if (s.Pos == 'v')
        {
            line.Append(" 02 + 02 00 + 08 01"); // verb frames
        }
        return line.Append(" | ").Append(s.Gloss).Append("  ").ToString();
    }
}

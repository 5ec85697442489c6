using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Models.Text;
using MlBert = Microsoft.ML.Tokenizers.BertTokenizer;
using MlBertOptions = Microsoft.ML.Tokenizers.BertOptions;

namespace Xmc.Tests.Models;

/// <summary>Cross-check against an independent implementation, Microsoft.ML.Tokenizers' BertTokenizer, on
/// text where that library follows BERT: letters, digits, Unicode punctuation other than "_", spaces and CJK.
/// (It drops symbols such as "$" or "+", keeps "_" inside words, deletes tabs and newlines so that the words
/// around them merge, and depends on ICU for accents: the reasons the engine has its own.)</summary>
public class WordPieceAgreementTests
{
    private static readonly string[] Tokens =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
        "the", "model", "un", "##aff", "##able", "play", "##ing", "##ed", "##s", "label", "extreme", "class",
        "##ifi", "##cation", "a", "b", "c", "##a", "##b", "##c", "1", "##2", "##3", "中", "国", "!", ",", ".", "-", "(", ")", "'", "\"", "?", "&", "%", "#", "@", ":",
        "ab", "##bc", "xy", "γ", "##δ",
    ];

    private static readonly string[] Parts =
    [
        "the", "The", "MODEL", "models", "unaffable", "playing", "played", "labels", "classification", "extreme",
        "abc", "ab", "xyz", "123", "1", "γδ", "Γ", "中国", "国", "!", ",", ".", "-", "(", ")", "'", "\"", "?", "&", "%",
        "#", "@", ":", "zz", " ", " ", " ", "  ",
    ];

    private static readonly WordPieceTokenizer OursUncased = new(new WordPieceVocabulary(Tokens), lowercase: true);
    private static readonly WordPieceTokenizer OursCased = new(new WordPieceVocabulary(Tokens), lowercase: false);
    private static readonly MlBert TheirsUncased = Theirs(lowercase: true);
    private static readonly MlBert TheirsCased = Theirs(lowercase: false);

    private static MlBert Theirs(bool lowercase)
    {
        using var vocab = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(string.Concat(Tokens.Select(t => t + "\n"))));
        return MlBert.Create(vocab, new MlBertOptions { LowerCaseBeforeTokenization = lowercase });
    }

    [Property(MaxTest = 100)]
    public bool Ids_match_microsoft_ml_tokenizers_on_plain_text(int seed, bool lowercase)
    {
        var ours = lowercase ? OursUncased : OursCased;
        var theirs = lowercase ? TheirsUncased : TheirsCased;
        var r = new Random(seed);
        var text = string.Concat(Enumerable.Range(0, r.Next(0, 40)).Select(_ => Parts[r.Next(Parts.Length)]));
        var expected = theirs.EncodeToIds(text, addSpecialTokens: false);
        var actual = ours.Encode(text);
        return expected.SequenceEqual(actual) ? true
            : throw new Xunit.Sdk.XunitException($"text {JsonEncoded(text)}: ML.Tokenizers [{string.Join(' ', expected.Select(i => Tokens[i]))}], ours [{string.Join(' ', actual.Select(i => Tokens[i]))}]");
    }

    private static string JsonEncoded(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}

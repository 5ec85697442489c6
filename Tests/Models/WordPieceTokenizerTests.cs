using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Models.Text;

namespace Xmc.Tests.Models;

public class WordPieceTokenizerTests
{
    private static readonly string[] Tokens =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
        "hello", "world", "un", "##aff", "##able", "a", "b", "$", "+", ",", "!", "中", "国",
        "play", "##ing", "cafe", "c", "x", "##x", "ab", "##b", "##bc", "##c", "😀", "##😀",
    ];

    private static readonly WordPieceTokenizer Tokenizer = new(new WordPieceVocabulary(Tokens));

    [Theory]
    [InlineData("unaffable", "un ##aff ##able")]
    [InlineData("Playing, PLAY!", "play ##ing , play !")]
    [InlineData("unaffz", "[UNK]")] // one unmatched position makes the whole word unknown
    [InlineData("zzz hello", "[UNK] hello")]
    [InlineData("abc", "ab ##c")] // greedy longest-match-first, not the alternative a ##bc
    [InlineData("a$b+c", "a $ b + c")]
    [InlineData("中国 Café", "中 国 cafe")]
    [InlineData("😀😀", "😀 ##😀")]
    [InlineData("", "")]
    public void Pieces_follow_greedy_longest_match_first(string text, string pieces)
        => Assert.Equal(pieces, string.Join(' ', Tokenizer.Pieces(text)));

    [Fact]
    public void Words_longer_than_100_characters_are_unknown()
    {
        Assert.Equal(["x", .. Enumerable.Repeat("##x", 99)], Tokenizer.Pieces(new string('x', 100)));
        Assert.Equal(["[UNK]"], Tokenizer.Pieces(new string('x', 101)));
        // The limit counts Unicode characters, not UTF-16 units: 100 emoji (200 units) still split.
        Assert.Equal(100, Tokenizer.Pieces(string.Concat(Enumerable.Repeat("😀", 100))).Length);
        Assert.Equal(["[UNK]"], Tokenizer.Pieces(string.Concat(Enumerable.Repeat("😀", 101))));
    }

    [Fact]
    public void Cased_tokenizer_does_not_fold_case()
    {
        var cased = new WordPieceTokenizer(new WordPieceVocabulary(Tokens), lowercase: false);
        Assert.Equal(["[UNK]", "hello"], cased.Pieces("Hello hello"));
    }

    [Fact]
    public void Batch_rows_are_cls_pieces_sep_then_padding_with_masks()
    {
        var vocab = Tokenizer.Vocabulary;
        var batch = Tokenizer.EncodeBatch(["hello world", "unaffable playing hello", ""], maxLength: 6);
        Assert.Equal(3, batch.BatchSize);
        Assert.Equal(6, batch.SequenceLength);
        int cls = vocab.ClassificationId, sep = vocab.SeparatorId, pad = vocab.PadId;
        int[] expected =
        [
            cls, vocab.IdOf("hello"), vocab.IdOf("world"), sep, pad, pad,
            cls, vocab.IdOf("un"), vocab.IdOf("##aff"), vocab.IdOf("##able"), vocab.IdOf("play"), sep, // truncated inside "playing"
            cls, sep, pad, pad, pad, pad,
        ];
        Assert.Equal(expected, batch.InputIds);
        Assert.Equal([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0], batch.AttentionMask);
        Assert.Equal([4, 6, 2], batch.Lengths);
    }

    [Fact]
    public void Batch_padding_rounds_up_to_a_multiple_or_to_max_length()
    {
        Assert.Equal(8, Tokenizer.EncodeBatch(["unaffable playing hello"], maxLength: 16, padMultiple: 4).SequenceLength);
        Assert.Equal(7, Tokenizer.EncodeBatch(["unaffable playing hello"], maxLength: 7, padMultiple: 4).SequenceLength);
        Assert.Equal(16, Tokenizer.EncodeBatch(["hello"], maxLength: 16, padToMaxLength: true).SequenceLength);
    }

    [Fact]
    public void Batch_becomes_int32_tensors()
    {
        using var scope = TensorScope.Begin();
        var batch = Tokenizer.EncodeBatch(["hello world", "a"], maxLength: 8);
        var (ids, mask) = batch.ToTensors();
        Assert.Equal(new Shape(2, 4), ids.Shape);
        Assert.Equal(DType.Int32, mask.DType);
        Assert.Equal(batch.InputIds, ids.ToArray<int>());
        Assert.Equal(batch.AttentionMask, mask.ToArray<int>());
    }

    private static string RandomText(Random r)
    {
        string[] parts = ["hello", "world", "unaffable", "playing", "Café", "中国", "a$b", "zz", "c++", "😀", ",", " ", "  ", "\n", "abc", "xxxx"];
        return string.Concat(Enumerable.Range(0, r.Next(0, 30)).Select(_ => parts[r.Next(parts.Length)] + (r.Next(3) == 0 ? " " : "")));
    }

    [Property(MaxTest = 50)]
    public bool Truncated_tokenization_is_a_prefix_of_the_full_one(int seed, byte limit)
    {
        var text = RandomText(new Random(seed));
        var full = Tokenizer.Encode(text);
        var ids = new List<int> { -7 };
        Tokenizer.Tokenize(text, ids, limit);
        Assert.Equal(-7, ids[0]); // appends after what is there
        Assert.Equal(full.Take(limit), ids.Skip(1));
        return true;
    }

    [Fact]
    public void Vocab_file_loads_with_crlf_and_names_the_file_when_a_special_token_is_missing()
    {
        using var dir = new TemporaryDirectory();
        var path = dir.File("vocab.txt");
        File.WriteAllText(path, string.Join("\r\n", Tokens) + "\r\n");
        var vocab = WordPieceVocabulary.Load(path);
        Assert.Equal(Tokens.Length, vocab.Count);
        Assert.Equal(Tokens, Enumerable.Range(0, vocab.Count).Select(i => vocab[i]));
        Assert.Equal(1, vocab.UnknownId);

        var saved = dir.File("saved/vocab.txt");
        vocab.Save(saved);
        Assert.Equal(string.Concat(Tokens.Select(t => t + "\n")), File.ReadAllText(saved));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(saved)!));

        var broken = dir.File("broken.txt");
        File.WriteAllLines(broken, Tokens.Where(t => t != "[UNK]"));
        var ex = Assert.Throws<FormatException>(() => WordPieceVocabulary.Load(broken));
        Assert.Contains(broken, ex.Message);
        Assert.Contains("[UNK]", ex.Message);
    }
}

using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Models.Text;

namespace Xmc.Tests.Models;

public class WordPieceVocabBuilderTests
{
    [Fact]
    public void Vocabulary_is_specials_then_characters_then_frequent_words()
    {
        var builder = new WordPieceVocabBuilder();
        builder.Add("the cat, the hat. The bat!");
        builder.Add("cat cat");
        var vocab = builder.Build(vocabSize: 100, minWordCount: 2);
        var tokens = Enumerable.Range(0, vocab.Count).Select(i => vocab[i]).ToList();
        Assert.Equal(WordPieceVocabBuilder.SpecialTokens, tokens.Take(5));
        // Characters by count (t 8, a 5, h 4, c 3, e 3, then the ones seen once), ties by code point, each
        // also as "##c"; then words seen ≥ 2 times by count, ties in ordinal order.
        var chars = "t a h c e ! , . b".Split(' ');
        Assert.Equal(chars, tokens.Skip(5).Take(chars.Length));
        Assert.Equal(chars.Select(c => "##" + c), tokens.Skip(5 + chars.Length).Take(chars.Length));
        Assert.Equal(["cat", "the"], tokens.Skip(5 + 2 * chars.Length));
    }

    [Fact]
    public void Vocabulary_size_caps_words_but_never_characters()
    {
        var builder = new WordPieceVocabBuilder();
        builder.Add("alpha beta gamma alpha beta alpha");
        var small = builder.Build(vocabSize: 3, minWordCount: 1);
        Assert.Equal(5 + 2 * "alphbetgm".Distinct().Count(), small.Count); // no word fits; all characters kept
        var larger = builder.Build(vocabSize: small.Count + 2, minWordCount: 1);
        Assert.Equal(small.Count + 2, larger.Count);
        Assert.Equal("alpha", larger[small.Count]);
        Assert.Equal("beta", larger[small.Count + 1]);
    }

    // Any word of the training text can be spelled: with a built vocabulary nothing is [UNK] except words over
    // the length limit, and the build is deterministic.
    [Property(MaxTest = 30)]
    public bool Built_vocabulary_covers_its_training_text(int seed)
    {
        var r = new Random(seed);
        var alphabet = "abcdeFGHé中😀$+,. \n".EnumerateRunes().Select(c => c.ToString()).ToArray();
        var texts = Enumerable.Range(0, r.Next(1, 6)).Select(_ =>
            string.Concat(Enumerable.Range(0, r.Next(0, 60)).Select(_ => alphabet[r.Next(alphabet.Length)]))).ToList();
        var builder = new WordPieceVocabBuilder();
        texts.ForEach(t => builder.Add(t));
        var vocab = builder.Build(vocabSize: r.Next(5, 40), minWordCount: 1 + r.Next(2));
        var tokenizer = new WordPieceTokenizer(vocab);
        foreach (var text in texts)
        {
            Assert.DoesNotContain(vocab.UnknownId, tokenizer.Encode(text));
        }
        var again = new WordPieceVocabBuilder();
        texts.ForEach(t => again.Add(t));
        var second = again.Build(vocabSize: vocab.Count, minWordCount: 1);
        Assert.Equal(vocab.Count, second.Count);
        return true;
    }

    [Fact]
    public void Built_vocabulary_saves_and_reloads_identically()
    {
        using var dir = new TemporaryDirectory();
        var builder = new WordPieceVocabBuilder();
        builder.Add("Déjà vu, déjà vu — 東京 again");
        var vocab = builder.Build(64, minWordCount: 1);
        var path = dir.File("model/vocab.txt");
        vocab.Save(path);
        var loaded = WordPieceVocabulary.Load(path);
        Assert.Equal(Enumerable.Range(0, vocab.Count).Select(i => vocab[i]), Enumerable.Range(0, loaded.Count).Select(i => loaded[i]));
        Assert.Equal(new WordPieceTokenizer(vocab).Encode("deja vu 東京"), new WordPieceTokenizer(loaded).Encode("deja vu 東京"));
    }
}

using Xmc.Models.Text;

namespace Xmc.Tests.Models;

public class BertWordSplitterTests
{
    private static readonly BertWordSplitter Uncased = new(lowercase: true);
    private static readonly BertWordSplitter Cased = new(lowercase: false);

    [Theory]
    [InlineData("Hello, World!", new[] { "hello", ",", "world", "!" })]
    [InlineData("Café Ünïcödé", new[] { "cafe", "unicode" })]
    [InlineData("a$b+c^d`e|f~g<h=i>j", new[] { "a", "$", "b", "+", "c", "^", "d", "`", "e", "|", "f", "~", "g", "<", "h", "=", "i", ">", "j" })]
    [InlineData("C++ and C#", new[] { "c", "+", "+", "and", "c", "#" })]
    [InlineData("中国play 𠀀x", new[] { "中", "国", "play", "𠀀", "x" })]
    [InlineData(" \t\nhello\u00A0world\u3000x\r\n", new[] { "hello", "world", "x" })]
    [InlineData("hel\u0000lo wor\u200Bld\uFFFD", new[] { "hello", "world" })]
    [InlineData("«quoted» — dash", new[] { "«", "quoted", "»", "—", "dash" })]
    [InlineData("hi😀there 30°c", new[] { "hi😀there", "30°c" })]
    [InlineData("e\u0301te\u0301", new[] { "ete" })]
    [InlineData("ΑΒΓ straße Ἄθως", new[] { "αβγ", "straße", "αθως" })]
    [InlineData("한국", new[] { "\u1112\u1161\u11AB\u1100\u116E\u11A8" })] // NFD splits Hangul into jamo, as BERT uncased does
    [InlineData("ǅemal ﬁ", new[] { "ǆemal", "ﬁ" })] // compatibility forms are not decomposed (NFD, not NFKD)
    [InlineData("", new string[0])]
    [InlineData("  \u0007 ", new string[0])]
    public void Uncased_splitting_follows_bert_basic_tokenization(string text, string[] words)
        => Assert.Equal(words, Uncased.Split(text));

    [Theory]
    [InlineData("Hello, World!", new[] { "Hello", ",", "World", "!" })]
    [InlineData("Café e\u0301", new[] { "Café", "e\u0301" })]
    [InlineData("NASA's", new[] { "NASA", "'", "s" })]
    public void Cased_splitting_keeps_case_and_accents(string text, string[] words)
        => Assert.Equal(words, Cased.Split(text));

    [Fact]
    public void Unpaired_surrogates_are_dropped_without_breaking_the_word()
        => Assert.Equal(["ab"], Uncased.Split("a\uD800b"));

    [Fact]
    public void Long_words_grow_the_buffer()
    {
        var word = string.Concat(Enumerable.Repeat("abcdefghij", 50));
        Assert.Equal([word, "x"], Uncased.Split(word.ToUpperInvariant() + " x"));
    }
}

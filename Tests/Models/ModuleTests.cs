using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using Xmc.Models;

namespace Xmc.Tests.Models;

[Collection(LedgerCollection.Name)]
public class ModuleTests
{
    private sealed class Leaf : Module
    {
        public Leaf(int n)
        {
            Weight = Register("weight", new Parameter(new Shape(n, 2)));
            Register("bias", new Parameter(new Shape(n)));
        }

        public Parameter Weight { get; }
    }

    private sealed class Tree : Module
    {
        public Tree()
        {
            Register("scale", new Parameter(new Shape(1)));
            Register("query", new Leaf(3));
            Register("key", new Leaf(5));
        }
    }

    private sealed class Outer : Module
    {
        public Outer() => Register("attention", new Tree());
    }

    [Fact]
    public void Named_parameters_are_dotted_depth_first()
    {
        using var m = new Outer();
        var names = m.NamedParameters().Select(p => p.Name).ToArray();
        Assert.Equal(["attention.scale", "attention.query.weight", "attention.query.bias", "attention.key.weight", "attention.key.bias"], names);
        Assert.Equal("weight", m.NamedParameters().First(p => p.Name == "attention.key.weight").Parameter.Data.Name);
    }

    [Fact]
    public void Duplicate_or_dotted_names_are_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new DuplicateName());
        Assert.Contains("'weight'", ex.Message);
        Assert.Throws<ArgumentException>(() => new DottedName());
    }

    private sealed class DuplicateName : Module
    {
        public DuplicateName()
        {
            Register("weight", new Parameter(new Shape(1)));
            Register("weight", new Parameter(new Shape(1)));
        }
    }

    private sealed class DottedName : Module
    {
        public DottedName() => Register("a.b", new Parameter(new Shape(1)));
    }

    [Fact]
    public void Parameters_live_in_their_category_gradients_appear_on_backward_and_dispose_frees_all()
    {
        var ledger = CpuBackend.Instance.CpuAllocator.Ledger;
        long p0 = ledger.Current(MemoryCategory.Parameters), g0 = ledger.Current(MemoryCategory.Gradients);
        var leaf = new Leaf(4);
        Assert.Equal(4 * 2 * 4 + 4 * 4, ledger.Current(MemoryCategory.Parameters) - p0);
        Assert.Null(leaf.Weight.Grad);
        using (TensorScope.Begin())
        {
            Ops.Sum(Ops.Mul(leaf.Weight.Data, Tensor.Full(new Shape(4, 2), 3f))).Backward();
        }
        Assert.NotNull(leaf.Weight.Grad);
        Assert.All(leaf.Weight.Grad!.ToArray<float>(), v => Assert.Equal(3f, v));
        Assert.Equal(4 * 2 * 4, ledger.Current(MemoryCategory.Gradients) - g0);
        leaf.Dispose();
        Assert.Equal(p0, ledger.Current(MemoryCategory.Parameters));
        Assert.Equal(g0, ledger.Current(MemoryCategory.Gradients));
    }
}

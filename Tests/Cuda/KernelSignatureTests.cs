using Xmc.Engine.Cuda.Compilation;
using Xmc.Engine.Cuda.Launch;
using static Xmc.Tests.Cuda.KernelSignatures;

namespace Xmc.Tests.Cuda;

/// <summary>Every kernel's C# declaration (<see cref="Kernels"/>) against its <c>__global__</c> signature in the
/// preprocessed <c>.cu</c> file: one declaration per kernel, the same parameter types and names in order. A kernel
/// whose signature changes cannot keep being launched with the old arguments: this fails until its declaration
/// changes, and then every launch with the old arguments stops compiling. Needs a g++ (CI has one); no CUDA.</summary>
public class KernelSignatureTests
{
    /// <summary>The kernels in Engine.Cuda/Kernels, counted by hand: 67 before the DST selection kernels (dstselect.cu,
    /// 9, and 3 more for fp8 values) and the fused SGD and fp8 kernels (16, fusedsgd.cu's macro making 6 of its 1),
    /// binary.cu's macro making 12 of its 3. A kernel added or removed changes this on purpose.</summary>
    internal const int KernelCount = 95;

    private static void SkipWithoutCompiler() =>
        Assert.SkipUnless(HaveCompiler, "no g++ on the PATH: the signature check preprocesses the kernel files with g++ -E");

    private static List<Signature> AllKernels() =>
        Preprocessed.SelectMany(f => KernelSignatures.Kernels(f.File, f.Text)).ToList();

    [Fact]
    public void Every_kernel_has_exactly_one_declaration_with_its_parameter_types_and_names()
    {
        SkipWithoutCompiler();
        var kernels = AllKernels();
        var declarations = Declarations();

        var differences = Differences(kernels, declarations);
        Assert.True(differences.Count == 0, $"{differences.Count} differences between the kernel files and Kernels:\n{string.Join("\n", differences)}");
        Assert.Equal(KernelCount, kernels.Count);
        Assert.Equal(KernelCount, declarations.Count);
    }

    [Fact]
    public void Every_global_function_in_the_files_is_read_as_a_kernel()
    {
        SkipWithoutCompiler();
        foreach (var (file, text) in Preprocessed)
        {
            // A __global__ that the signature pattern does not match (not extern "C", not void, or a parameter list
            // the reader does not understand) would escape the check above.
            Assert.Equal(GlobalKeyword().Count(text), KernelSignatures.Kernels(file, text).Count);
        }
        Assert.Equal(KernelCount, Preprocessed.Sum(f => GlobalKeyword().Count(f.Text)));
    }

    [Fact]
    public void Macro_made_kernels_appear_only_after_preprocessing()
    {
        SkipWithoutCompiler();
        var binary = Preprocessed.Single(f => f.File == "binary.cu").Text;
        var names = KernelSignatures.Kernels("binary.cu", binary).Select(k => k.Name).ToList();

        Assert.Equal(12, names.Count);
        Assert.Contains("binary_div_column", names);
        Assert.DoesNotContain("binary_div_column", KernelSource.Get("binary.cu").Code);
    }

    [Theory]
    [InlineData("const float* x", "x", "float const*")]
    [InlineData("float const * const x", "x", "float const*")]
    [InlineData("float* const* states", "states", "float* const*")]
    [InlineData("float * __restrict__ y", "y", "float*")]
    [InlineData("void* param", "param", "void*")]
    [InlineData("const int n", "n", "int")]
    [InlineData("long long int n", "n", "long long")]
    [InlineData("signed long long n", "n", "long long")]
    [InlineData("unsigned long long seed", "seed", "unsigned long long")]
    [InlineData("long unsigned long seed", "seed", "unsigned long long")]
    [InlineData("unsigned n", "n", "unsigned int")]
    [InlineData("unsigned short* indices", "indices", "unsigned short*")]
    [InlineData("const unsigned char* bytes", "bytes", "unsigned char const*")]
    [InlineData("long n", "n", "long")]
    [InlineData(" double *accumulator ", "accumulator", "double*")]
    public void A_parameter_reads_as_its_name_and_canonical_type(string declaration, string name, string type) =>
        Assert.Equal(new KernelParameter(name, type), Parameter(declaration));

    [Theory]
    [InlineData("float*")]
    [InlineData("volatile float* x")]
    [InlineData("float* volatile x")]
    public void A_parameter_without_a_name_or_with_an_unknown_qualifier_is_refused(string declaration) =>
        Assert.Throws<FormatException>(() => Parameter(declaration));

    private static string Name<T>() where T : ICudaType => T.CudaName;

    [Fact]
    public void Declared_types_spell_the_canonical_C_types()
    {
        Assert.Equal("float const*", Name<Ptr<Const<F32>>>());
        Assert.Equal("float* const*", Name<Ptr<Const<Ptr<F32>>>>());
        Assert.Equal("unsigned short*", Name<Ptr<BF16>>());
        Assert.Equal("unsigned short const*", Name<Ptr<Const<U16>>>());
        Assert.Equal("void*", Name<Ptr<Untyped>>());
        Assert.Equal("unsigned long long*", Name<Ptr<U64>>());
        Assert.Equal("long long", Name<I64>());
        Assert.Equal("double const*", Name<Ptr<Const<F64>>>());
    }

    [Fact]
    public void Generic_families_are_declared_for_every_element_type_pair()
    {
        var names = Declarations().Select(d => d.Name).ToHashSet();
        foreach (var pair in new[] { "f32_u16", "f32_i32", "bf16_u16", "bf16_i32" })
        {
            Assert.Contains("fixed_fan_in_forward_" + pair, names);
            Assert.Contains("fixed_fan_in_backward_input_" + pair, names);
            Assert.Contains("set_prune_regrow_" + pair, names);
        }
        Assert.Contains("fixed_fan_in_backward_values_u16", names);
        Assert.Contains("fixed_fan_in_backward_values_i32", names);
    }

    private static readonly Signature Axpy = new("axpy.cu", "axpy_f32",
        [new("y", "float*"), new("x", "float const*"), new("n", "long long"), new("alpha", "float")]);

    public static TheoryData<Kernel, string> WrongDeclarations() => new()
    {
        { new Kernel<Ptr<F32>, Ptr<Const<F32>>, I64, I64>("axpy.cu", "axpy_f32", "y", "x", "n", "alpha"), "parameter 4 is 'float alpha' but is declared 'long long alpha'" },
        { new Kernel<Ptr<F32>, Ptr<F32>, I64, F32>("axpy.cu", "axpy_f32", "y", "x", "n", "alpha"), "parameter 2 is 'float const* x' but is declared 'float* x'" },
        { new Kernel<Ptr<Const<F32>>, Ptr<F32>, I64, F32>("axpy.cu", "axpy_f32", "x", "y", "n", "alpha"), "parameter 1 is 'float* y' but is declared 'float const* x'" },
        { new Kernel<Ptr<F32>, Ptr<Const<F32>>, I64>("axpy.cu", "axpy_f32", "y", "x", "n"), "has 4 parameters; its declaration has 3" },
        { new Kernel<Ptr<F32>, Ptr<Const<F32>>, I64, F32>("axpy.cu", "axpy_f64", "y", "x", "n", "alpha"), "axpy.cu defines no such kernel" },
    };

    [Theory]
    [MemberData(nameof(WrongDeclarations))]
    public void A_declaration_that_differs_from_its_kernel_is_reported(Kernel wrong, string problem)
    {
        var problems = Differences([Axpy], [wrong]);

        Assert.Contains(problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void A_kernel_declared_twice_or_not_at_all_is_reported()
    {
        var declaration = new Kernel<Ptr<F32>, Ptr<Const<F32>>, I64, F32>("axpy.cu", "axpy_f32", "y", "x", "n", "alpha");

        Assert.Empty(Differences([Axpy], [declaration]));
        Assert.Contains("has 2 declarations", Assert.Single(Differences([Axpy], [declaration, declaration])));
        Assert.Contains("has 0 declarations", Assert.Single(Differences([Axpy], [])));
    }

    [Fact]
    public void A_declaration_needs_one_name_per_parameter_type()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Kernel<Ptr<F32>, I64>("axpy.cu", "axpy_f32", "y"));

        Assert.Contains("axpy.cu:axpy_f32 is declared with 2 parameter types but 1 names", ex.Message);
    }
}

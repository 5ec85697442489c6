namespace Xmc.Engine;

public static partial class Autograd
{
    /// <summary>Turns recording back on on this thread, inside any number of <see cref="NoGrad"/> scopes (a
    /// backward that re-runs a forward, see <see cref="RecomputedSegment"/>), until the returned handle is disposed.</summary>
    public static IDisposable EnableGrad() => new EnableGradScope();

    private sealed class EnableGradScope : IDisposable
    {
        private readonly int _saved;
        private bool _done;

        public EnableGradScope()
        {
            _saved = _noGradDepth;
            _noGradDepth = 0;
        }

        public void Dispose()
        {
            if (!_done)
            {
                _done = true;
                _noGradDepth = _saved;
            }
        }
    }
}

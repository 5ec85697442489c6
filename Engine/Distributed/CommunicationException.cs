namespace Xmc.Engine.Distributed;

/// <summary>A collective failed, or the communication library could not be found or started; the message says
/// which call, on which rank, and what to do.</summary>
public class CommunicationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A collective did not complete within the communicator's timeout: another rank died or is stuck.</summary>
public sealed class CommunicationTimeoutException(string message) : CommunicationException(message);

global using Xmc.Tests.Cases;
global using Xunit;

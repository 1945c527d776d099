/** The TCP proxy for partitions lives with the chaos runner, which uses it too. */
export { startTcpProxy, type TcpProxy } from '../../chaos/tcp-proxy';

import { describe, expect, it } from 'vitest'
import { GatewayMetrics } from '../../src/gateway/metrics.js'

const requestLines = (text: string) =>
  text.split('\n').filter((line) => line.startsWith('smileid_gateway_requests_total{'))

describe('GatewayMetrics', () => {
  it('counts requests by direction and status: the same status on both listeners stays apart', () => {
    const metrics = new GatewayMetrics()
    metrics.request('inbound', 200, 0.001)
    metrics.request('inbound', 200, 0.002)
    metrics.request('outbound', 200, 0.003)
    metrics.request('inbound', 502, 0.004)
    expect(requestLines(metrics.render())).toEqual([
      'smileid_gateway_requests_total{direction="inbound",status="200"} 2',
      'smileid_gateway_requests_total{direction="outbound",status="200"} 1',
      'smileid_gateway_requests_total{direction="inbound",status="502"} 1',
    ])
  })

  it('an out-of-range status is still counted under its own label', () => {
    const metrics = new GatewayMetrics()
    metrics.request('inbound', 0, 0.001)
    metrics.request('outbound', 1200, 0.001)
    metrics.request('inbound', 200, 0.001)
    expect(requestLines(metrics.render())).toEqual([
      'smileid_gateway_requests_total{direction="inbound",status="0"} 1',
      'smileid_gateway_requests_total{direction="outbound",status="1200"} 1',
      'smileid_gateway_requests_total{direction="inbound",status="200"} 1',
    ])
  })

  it('the latency histogram is cumulative and its count matches the requests', () => {
    const metrics = new GatewayMetrics()
    metrics.request('inbound', 200, 0.0005)
    metrics.request('inbound', 200, 0.003)
    metrics.request('inbound', 200, 20)
    const text = metrics.render()
    expect(text).toContain(
      'smileid_gateway_request_duration_seconds_bucket{direction="inbound",le="0.001"} 1',
    )
    expect(text).toContain(
      'smileid_gateway_request_duration_seconds_bucket{direction="inbound",le="0.005"} 2',
    )
    expect(text).toContain('smileid_gateway_request_duration_seconds_bucket{direction="inbound",le="10"} 2')
    expect(text).toContain('smileid_gateway_request_duration_seconds_bucket{direction="inbound",le="+Inf"} 3')
    expect(text).toContain('smileid_gateway_request_duration_seconds_count{direction="inbound"} 3')
  })
})

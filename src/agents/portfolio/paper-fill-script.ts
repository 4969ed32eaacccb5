/**
 * The paper fill, as one Redis Lua script: reading the account, deciding the quantity and writing
 * the fill happen atomically, so two runs of the same job (a retry racing a stalled-job recovery)
 * fill once, and concurrent cycles of one agent on different tickers never lose cash. Money is in
 * integer cents; market values round to the cent. Long only: BUY tops the position up to the target
 * share of equity, SELL exits it, anything else only marks to market.
 *
 * KEYS: 1 marker (per job id), 2 account, 3 positions, 4 last prices, 5 trades, 6 equity curve, 7 agents set
 * ARGV: 1 agent, 2 ticker, 3 decision, 4 mark price (dollars), 5 buy fill (cents), 6 sell fill (cents),
 *       7 commission (cents), 8 target fraction, 9 starting cash (cents), 10 time (ISO), 11 job id,
 *       12 marker TTL (s), 13 equity points kept
 * Returns the fill as JSON (`null` when nothing traded) — the same answer on every later call for this job.
 */
export const PAPER_FILL_SCRIPT = `
local done = redis.call('GET', KEYS[1])
if done then return done end

local ticker, decision = ARGV[2], ARGV[3]
local buyFill, sellFill, fee = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])

local cash = tonumber(redis.call('HGET', KEYS[2], 'cash_cents'))
if not cash then
  cash = tonumber(ARGV[9])
  redis.call('HSET', KEYS[2], 'cash_cents', cash, 'starting_cash_cents', cash, 'realized_cents', 0, 'opened_at', ARGV[10])
end
redis.call('HSET', KEYS[4], ticker, ARGV[4])

local function decode(raw)
  local p = cjson.decode(raw)
  -- Positions written before costs were kept in cents carry an average price instead.
  if p.cost_cents == nil then p.cost_cents = math.floor(p.quantity * p.avg_price * 100 + 0.5) end
  return p
end
local function marketValue(quantity, price)
  return math.floor(quantity * price * 100 + 0.5)
end
local function equity()
  local total = cash
  local all = redis.call('HGETALL', KEYS[3])
  for i = 1, #all, 2 do
    local p = decode(all[i + 1])
    local price = tonumber(redis.call('HGET', KEYS[4], all[i]))
    if price then total = total + marketValue(p.quantity, price) else total = total + p.cost_cents end
  end
  return total
end

local raw = redis.call('HGET', KEYS[3], ticker)
local pos = {quantity = 0, cost_cents = 0}
if raw then pos = decode(raw) end

local fill = nil
if decision == 'BUY' then
  local wanted = math.floor(equity() * tonumber(ARGV[8]) / buyFill) - pos.quantity
  local affordable = math.floor((cash - fee) / buyFill)
  local quantity = math.min(wanted, affordable)
  if quantity > 0 then
    local cost = quantity * buyFill + fee
    cash = cash - cost
    redis.call('HSET', KEYS[3], ticker, cjson.encode({quantity = pos.quantity + quantity, cost_cents = pos.cost_cents + cost}))
    fill = {side = 'BUY', quantity = quantity, price = buyFill / 100, fees = fee / 100, realized = 0}
  end
elseif decision == 'SELL' and pos.quantity > 0 then
  local proceeds = pos.quantity * sellFill - fee
  local realized = proceeds - pos.cost_cents
  cash = cash + proceeds
  redis.call('HDEL', KEYS[3], ticker)
  redis.call('HINCRBY', KEYS[2], 'realized_cents', realized)
  fill = {side = 'SELL', quantity = pos.quantity, price = sellFill / 100, fees = fee / 100, realized = realized}
end
redis.call('HSET', KEYS[2], 'cash_cents', cash)

local result = 'null'
if fill then
  redis.call('RPUSH', KEYS[5], cjson.encode({job_id = ARGV[11], at = ARGV[10], ticker = ticker, side = fill.side, quantity = fill.quantity,
    price = fill.price, fees = fill.fees, realized_pnl = fill.realized / 100, cash_after = cash / 100}))
  result = cjson.encode({side = fill.side, quantity = fill.quantity, price = fill.price, fees = fill.fees, cash_after = cash / 100})
end
redis.call('RPUSH', KEYS[6], cjson.encode({t = ARGV[10], equity = equity() / 100}))
redis.call('LTRIM', KEYS[6], -tonumber(ARGV[13]), -1)
redis.call('SADD', KEYS[7], ARGV[1])
redis.call('SET', KEYS[1], result, 'EX', tonumber(ARGV[12]))
return result
`;

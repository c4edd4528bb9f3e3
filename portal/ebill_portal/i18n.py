"""The portal's message catalogue: zh-CN by default, English switchable; dates in China time."""

from __future__ import annotations

import datetime as dt

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")

#: key -> (zh-CN, English)
MESSAGES: dict[str, tuple[str, str]] = {
    "title": ("财政电子票据平台", "Fiscal e-bill portal"),
    "lang.switch": ("English", "中文"),
    "nav.home": ("首页", "Home"),
    "nav.verify": ("票据查验", "Verify a bill"),
    "nav.payer": ("我的票据", "My bills"),
    "nav.unit": ("开票单位", "Issuing unit"),
    "nav.finance": ("财政管理", "Finance console"),
    "nav.login": ("登录", "Sign in"),
    "nav.logout": ("退出", "Sign out"),
    "nav.main": ("主导航", "Main navigation"),
    "login.title": ("登录", "Sign in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.failed": ("用户名或密码错误", "Wrong username or password"),
    "login.as": ("当前用户", "Signed in as"),
    "home.intro": (
        "查验财政电子票据的真伪，查看和授权您的票据，管理开票与票据库存。",
        "Verify fiscal e-bills, see and authorise your bills, manage issuance and stock.",
    ),
    "verify.title": ("票据查验", "Verify a bill"),
    "verify.code": ("票据代码", "Bill code"),
    "verify.number": ("票据号码", "Bill number"),
    "verify.check": ("校验码", "Check code"),
    "verify.amount": ("金额（元，可选）", "Amount (yuan, optional)"),
    "verify.date": ("开票日期（可选）", "Issue date (optional)"),
    "verify.submit": ("查验", "Verify"),
    "verify.genuine": (
        "真票：该票据由财政电子票据链登记",
        "Genuine: this bill is on the e-bill chain",
    ),
    "verify.false": ("查验不通过：未找到相符的票据", "Not genuine: no matching bill"),
    "verify.reason": ("原因", "Reason"),
    "bill.title": ("财政电子票据", "Fiscal electronic bill"),
    "bill.name": ("票据名称", "Bill name"),
    "bill.code": ("票据代码", "Bill code"),
    "bill.number": ("票据号码", "Bill number"),
    "bill.check": ("校验码", "Check code"),
    "bill.check.none": ("未提供（见纸质票据或开票回执）", "not given (see the receipt)"),
    "bill.check.enter": ("输入校验码以打印二维码", "Enter the check code to print the QR code"),
    "bill.check.save": ("确认", "Confirm"),
    "bill.check.wrong": ("校验码不正确", "The check code does not match"),
    "bill.unit": ("开票单位", "Issuing unit"),
    "bill.payer": ("交款人", "Payer"),
    "bill.date": ("开票日期", "Issue date"),
    "bill.status": ("状态", "Status"),
    "bill.items": ("项目", "Items"),
    "bill.item.code": ("项目编码", "Code"),
    "bill.item.name": ("项目名称", "Item"),
    "bill.item.qty": ("数量", "Qty"),
    "bill.item.unit": ("单位", "Unit"),
    "bill.item.price": ("标准", "Price"),
    "bill.item.amount": ("金额（元）", "Amount (yuan)"),
    "bill.items.none": (
        "明细仅开票单位及授权报销单位可见",
        "Line items are held by the issuing unit and authorised reimbursers only",
    ),
    "bill.total": ("合计（小写）", "Total"),
    "bill.total.capital": ("合计（大写）", "Total in words"),
    "bill.reimbursed": ("已报销", "Reimbursed"),
    "bill.tx": ("链上交易号", "Chain transaction id"),
    "bill.qr": ("扫码查验", "Scan to verify"),
    "bill.pdf": ("下载 PDF", "Download PDF"),
    "bill.print": ("打印", "Print"),
    "bill.authorised": ("已授权报销单位", "Authorised reimbursers"),
    "bill.authorise": ("授权报销单位", "Authorise a reimburser"),
    "bill.reimburser": ("报销单位", "Reimburser"),
    "bill.authorise.submit": ("授权", "Authorise"),
    "bill.revoke": ("撤销授权", "Revoke"),
    "bill.claims": ("报销记录", "Claims"),
    "bill.redletter": ("冲红", "Red-letter"),
    "bill.red.number": ("红票号码", "Red bill number"),
    "bill.red.reason": ("冲红原因", "Reason"),
    "payer.title": ("我的票据", "My bills"),
    "payer.salt": (
        "票据查询码（回执上的 32 位码）",
        "Bill key (the 32-character code on the receipt)",
    ),
    "payer.salt.add": ("查询", "Look up"),
    "payer.salt.help": (
        "开票回执上印有查询码；输入后本次登录期间可查看以该码开具的全部票据。",
        "Each receipt carries a bill key; enter it to see every bill issued with it "
        "while you are signed in.",
    ),
    "payer.none": ("暂无票据，请输入回执上的查询码", "No bills yet: enter the key from a receipt"),
    "unit.title": ("开票单位", "Issuing unit"),
    "unit.day": ("开票日期", "Day"),
    "unit.show": ("查询", "Show"),
    "unit.find": ("查找票据", "Find a bill"),
    "unit.next": ("下一页", "Next page"),
    "unit.first": ("第一页", "First page"),
    "unit.none": ("当日无票据", "No bills on this day"),
    "unit.reconciliation": ("日对账", "Daily reconciliation"),
    "unit.from": ("起始日期", "From"),
    "unit.to": ("截止日期", "To"),
    "unit.count": ("张数", "Bills"),
    "unit.amount": ("开票金额", "Amount issued"),
    "unit.reimbursed": ("已报销金额", "Reimbursed"),
    "unit.red": ("冲红张数", "Red-lettered"),
    "unit.redletter.done": ("已冲红，红票号码", "Red-lettered; red bill number"),
    "issue.title": ("开具票据", "Issue a bill"),
    "issue.invalid": ("表单有误，未开具票据：", "Not issued; please correct:"),
    "issue.bill": ("票据", "Bill"),
    "issue.ranges": ("可用号段", "Approved ranges"),
    "issue.payer.type": ("交款人类型", "Payer type"),
    "issue.payer.person": ("个人", "person"),
    "issue.payer.company": ("单位", "organisation"),
    "issue.payer.name": ("交款人名称", "Payer name"),
    "issue.payer.id": ("交款人证件号/统一社会信用代码", "Payer ID number"),
    "issue.items.help": (
        "空行不计；金额 = 数量 × 单价",
        "empty rows are skipped; amount = qty × price",
    ),
    "issue.item.price": ("单价（元）", "Unit price (yuan)"),
    "issue.remark": ("备注（可选）", "Remark (optional)"),
    "issue.add": ("增加一行", "Add a row"),
    "issue.submit": ("开具", "Issue"),
    "issue.done": ("票据已开具", "Bill issued"),
    "issue.done.help": (
        "请将校验码和查询码交给交款人",
        "Give the check code and the bill key to the payer",
    ),
    "issue.salt": ("查询码", "Bill key"),
    "issue.unknown": (
        "开票结果未知，请再次提交同一表单以完成本次开票（不会重复开票）",
        "The outcome is unknown; send the same form again to finish this issuance"
        " (it never issues twice)",
    ),
    "issue.printable": ("打印票据", "Printable bill"),
    "issue.another": ("继续开票", "Issue another"),
    "stock.title": ("票据库存", "Bill stock"),
    "stock.applied": ("已提交申领，批次", "Applied; batch"),
    "stock.apply": ("申领号段", "Apply for a range"),
    "stock.start": ("起始号码", "First number"),
    "stock.count": ("数量", "Count"),
    "stock.used": ("已用", "Used"),
    "stock.left": ("剩余", "Left"),
    "stock.unused": ("作废", "void"),
    "stock.none.open": ("无（请先申领）", "none (apply for stock first)"),
    "stock.reconcile": ("核销", "Reconcile"),
    "stock.reconciliation": ("库存核销", "Stock reconciliation"),
    "stock.granted": ("已批准号码数", "Numbers granted"),
    "stock.in.ranges": ("号段内已开票据", "Bills issued in the ranges"),
    "stock.unit.bills": ("单位开票总数", "Bills the unit issued"),
    "stock.reconcile.help": (
        "核销后该批次未使用的号码作废，单位可再次申领。",
        "Reconciling closes a batch: its unused numbers become void and the unit may apply again.",
    ),
    "locks.title": ("超时报销锁定", "Stale locks"),
    "locks.minutes": ("锁定超过（分钟）", "Locked longer than (minutes)"),
    "locks.since": ("锁定时间", "Locked since"),
    "locks.release": ("解除锁定", "Release"),
    "locks.released": ("已解除锁定", "Released"),
    "locks.none": ("无超时锁定", "No stale locks"),
    "locks.fresh": ("未超时的锁定", "Locks not yet stale"),
    "finance.title": ("财政管理", "Finance console"),
    "finance.register": ("登记开票单位", "Register a unit"),
    "finance.unit.code": ("单位编码", "Unit code"),
    "finance.unit.name": ("单位名称", "Unit name"),
    "finance.unit.sector": ("行业", "Sector"),
    "finance.unit.region": ("地区码", "Region"),
    "finance.unit.status": ("单位状态", "Unit status"),
    "finance.lookup": ("查看单位", "Look up a unit"),
    "finance.suspend": ("暂停", "Suspend"),
    "finance.resume": ("恢复", "Resume"),
    "finance.reason": ("原因", "Reason"),
    "finance.stock": ("票据库存申领", "Stock applications"),
    "finance.batch": ("批次", "Batch"),
    "finance.range": ("号段", "Range"),
    "finance.approve": ("批准", "Approve"),
    "finance.reject": ("驳回", "Reject"),
    "finance.none": ("无申领记录", "No stock applications"),
    "nav.supervision": ("监管看板", "Supervision dashboard"),
    "sup.title": ("财政电子票据监管看板", "Fiscal e-bill supervision dashboard"),
    "sup.scope.note": (
        "地区、行业筛选作用于合计、按日和按月统计；按行业、单位、地区的分布为所选期间的全省数据。",
        "The region or sector filter applies to the totals and the daily and monthly "
        "figures; the breakdowns by sector, unit and region cover the whole province "
        "in the period.",
    ),
    "sup.asof": ("数据截至", "Figures as of"),
    "sup.asof.height": ("区块高度", "block height"),
    "sup.asof.lag": ("落后链上区块数", "blocks behind the chain"),
    "sup.asof.current": ("与链上一致", "up to date with the chain"),
    "sup.csv": ("导出 CSV", "Export CSV"),
    "sup.chart": ("图表", "Chart"),
    "sup.none": ("无数据", "No data"),
    "sup.back": ("返回监管看板", "Back to the dashboard"),
    "sup.bills": ("票据张数", "Bills"),
    "sup.amount": ("开票金额（元）", "Amount (yuan)"),
    "sup.amount.yuan": ("开票金额（元）", "Amount (yuan)"),
    "sup.reimbursed": ("已报销金额（元）", "Reimbursed (yuan)"),
    "sup.red": ("冲红张数", "Red-lettered"),
    "sup.rate.reimbursed": ("报销率", "Reimbursement rate"),
    "sup.rate.red": ("冲红率", "Red-letter rate"),
    "sup.scope": ("范围", "Scope"),
    "sup.period": ("期间", "Period"),
    "sup.day": ("日期", "Day"),
    "sup.type": ("异常类型", "Anomaly type"),
    "sup.count": ("次数", "Count"),
    "sup.kind": ("票据类别", "Kind"),
    "sup.anomaly": ("异常编号", "Anomaly id"),
    "sup.function": ("操作", "Function"),
    "sup.block": ("区块号", "Block"),
    "sup.org": ("机构", "Org"),
    "sup.actor": ("操作人", "Actor"),
    "sup.when": ("时间", "When"),
    "sup.by.sector": ("行业", "Sector"),
    "sup.by.unit": ("单位编码", "Unit"),
    "sup.by.region": ("地区码", "Region"),
    "sup.t.totals": ("合计", "Totals"),
    "sup.t.daily": ("按日开票统计", "Bills and amounts per day"),
    "sup.t.monthly": ("按月开票统计", "Bills and amounts per month"),
    "sup.t.sectors": ("按行业分布", "By sector"),
    "sup.t.units": ("按单位分布", "By unit"),
    "sup.t.regions": ("按地区分布", "By region"),
    "sup.t.anomalies": ("异常按类型和日期", "Anomalies by type over time"),
    "sup.t.bills": ("单位票据", "The unit's bills"),
    "sup.t.anomaly-list": ("异常记录", "Anomalies"),
    "sup.t.transactions": ("统计对应的链上交易", "The transactions behind the figure"),
    "sup.history": ("票据全生命周期记录", "The bill's full history"),
    "sup.history.caption": (
        "每次链上变更：时间、操作、机构、操作人、交易号",
        "Every change on the chain: when, what, which org, who, which transaction",
    ),
    "sup.rule.date": ("日期格式 YYYY-MM-DD", "a date YYYY-MM-DD"),
    "sup.rule.span": ("不能晚于截止日期", "must not be after toDate"),
    "sup.rule.region": ("两位数字地区码", "a region code of 2 digits"),
    "sup.rule.sector": ("字母、数字、- 或 _，至多 32 个", "letters, digits, - or _, at most 32"),
    "sup.rule.one": ("只能选择地区或行业之一", "choose a region or a sector, not both"),
    "done": ("操作成功", "Done"),
    "refused": ("操作被拒绝", "Refused"),
    "error.forbidden": ("您无权查看此页面", "You may not see this page"),
    "error.notfound": ("未找到", "Not found"),
    "error.internal": ("系统错误，请稍后再试", "Something went wrong; try again later"),
    "error.csrf": ("表单已过期，请重试", "The form expired; please try again"),
    "error.unavailable": (
        "服务暂不可用，请稍后再试",
        "The service is unavailable; try again later",
    ),
    "status.issued": ("已开具", "issued"),
    "status.locked": ("报销锁定中", "locked for a claim"),
    "status.partially_reimbursed": ("部分报销", "partially reimbursed"),
    "status.reimbursed": ("已报销", "reimbursed"),
    "status.red_lettered": ("已冲红", "red-lettered"),
    "status.archived": ("已归档", "archived"),
    "status.pending": ("待审批", "pending"),
    "status.approved": ("已批准", "approved"),
    "status.rejected": ("已驳回", "rejected"),
    "status.reconciled": ("已核销", "reconciled"),
    "status.active": ("正常", "active"),
    "status.suspended": ("已暂停", "suspended"),
}


def language(value: str | None) -> str:
    """The language code to use for ``value`` (a cookie or query value)."""
    return value if value in LANGUAGES else DEFAULT


def translate(lang: str, key: str) -> str:
    """The message ``key`` in ``lang``; the key itself when the catalogue lacks it."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    return entry[LANGUAGES.index(language(lang))]


def china_time(value: str) -> str:
    """An ISO 8601 instant (any offset, ``Z`` too) shown in China time, to the minute."""
    try:
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def china_today() -> str:
    """Today's date in China time, YYYY-MM-DD."""
    return dt.datetime.now(CHINA).date().isoformat()

# The web console: the desk pages (接线台), the dispatcher's queue (派单) and the public's
# submission page.

action-agent_desk = 使用接线台
action-mailbox_queue = 查看书记信箱待办

## 诉求类型与紧急程度
desk-kind-legend = 诉求类型
desk-kind-complaint = 投诉
desk-kind-help = 求助
desk-kind-consultation = 咨询
desk-kind-suggestion = 建议
desk-kind-report = 举报
desk-kind-praise = 表扬
desk-priority-normal = 一般
desk-priority-urgent = 紧急

## 诉求表单(接线登记与网上提交共用)
desk-field-title = 标题
desk-field-title-optional = 标题(选填)
desk-title-hint = 不填时取诉求内容的第一行(最多 30 个字)。
desk-field-body = 诉求内容
desk-field-kind = 诉求类型
desk-field-address = 地点
desk-field-address-optional = 事发地点(选填)
desk-appellant-legend = 诉求人
desk-appellant-person = 个人
desk-appellant-enterprise = 企业
desk-field-name = 姓名或企业名称
desk-field-phone = 联系电话
desk-field-uscc = 统一社会信用代码
desk-field-uscc-enterprise = 统一社会信用代码(企业填写)
desk-field-answer = 当场答复内容

## 接线台
desk-title = 接线登记
desk-lookup = 来电号码查询
desk-lookup-number = 来电号码或统一社会信用代码
desk-lookup-submit = 查询历史诉求
desk-history = 该来电人的历史诉求 { $count } 件
desk-history-empty = 该号码没有历史诉求。
desk-col-received = 受理时间
desk-col-unit = 责任单位
desk-log = 登记工单
desk-urgent = 紧急诉求(12 小时内办结)
desk-answer-legend = 一次性告知(咨询类)
desk-answer-hint = 咨询已当场答复的,填写答复内容,登记后直接办结,不再派单。
desk-log-submit = 登记工单
desk-preview = 智能分拨建议
desk-preview-waiting = 输入诉求内容后,这里显示建议的责任单位和疑似重复诉求。
desk-preview-auto = 将自动派给 { $unit }({ $matter },把握 { $percent })。
desk-preview-manual = 可能属于 { $unit }({ $matter },把握 { $percent }),登记后由派单员确认派单。
desk-preview-unplaced = 暂无把握确定责任单位,登记后由派单员派单。
desk-preview-confidential-route = 涉及工作人员作风问题,将按保密件转纪委监委办理。
desk-preview-confidential = 保密件:诉求人信息和内容不得告知被反映单位。
desk-preview-urgent = 含紧急情形({ $signals }),将按紧急诉求办理。
desk-preview-suggestions = 建议的服务事项
desk-preview-duplicates = 疑似重复诉求
desk-preview-offline = 暂时无法获取分拨建议,不影响登记。
desk-why-same_appellant = 同一来电人
desk-why-similar_text = 内容相近
desk-why-same_place = 同一地点、同一事项
desk-mine = 我登记的诉求
desk-mine-empty = 您还没有登记诉求。
desk-done-logged = 工单已登记,工单号 { $ticket }。请将工单号告知来电人。
desk-done-answered = 工单 { $ticket } 已登记并当场答复办结。
desk-done-closed = 工单 { $ticket } 已当场答复办结。
desk-close = 当场答复并办结(一次性告知)
desk-close-submit = 答复并办结
desk-next-call = 登记下一个来电
desk-full-case = 查看工单详情

## 派单
queue-title = 待派单
queue-mailbox-title = 书记信箱待办(保密件)
queue-count = 共 { $count } 件等待派单
queue-empty = 目前没有等待派单的工单。
queue-col-waiting = 等待
queue-col-suggestions = 分拨建议
queue-col-action = 操作
queue-waited = 已等待 { $minutes } 分钟
queue-dispatch-due = 派单时限
queue-no-suggestions = 无建议
queue-duplicate = 疑似重复:
queue-quick-dispatch = 派给 { $unit }
queue-quick-reassign = 改派给 { $unit }
queue-quick-label = 工单 { $ticket }:按首选建议派给
queue-open = 处理
queue-pages = 分页
queue-prev = 上一页
queue-next = 下一页
queue-page = 第 { $page } / { $pages } 页
queue-back = 返回待派单列表
queue-dispatch = 派单
queue-reassign = 改派
queue-unit = 责任单位
queue-choose-unit = 请选择责任单位
queue-matter = 服务事项(选填)
queue-no-matter = 不指定服务事项
queue-matter-hint = 只列出所选单位承办的事项;注明事项有助于改进智能分拨。
queue-merge = 合并为重复诉求
queue-merge-into = 并入工单 { $ticket },本工单不再单独办理。
queue-void = 作废(请写明原因)
queue-void-submit = 作废
queue-done-dispatched = 工单 { $ticket } 已派单。
queue-done-reassigned = 工单 { $ticket } 已改派。
queue-done-merged = 工单 { $ticket } 已合并。
queue-done-voided = 工单 { $ticket } 已作废。

## 网上提交诉求
submit-title = 提交诉求
submit-intro = 请写明事项、地点和联系方式。提交后将获得工单号和查询码,可随时查询办理进度。
submit-privacy = 您的姓名和联系方式只用于办理本诉求,对无关人员隐藏。
submit-submit = 提交诉求
submit-done-title = 诉求已提交
submit-done-intro = 我们已收到您的诉求,将尽快派给责任单位办理。
submit-done-code = 查询码
submit-done-keep = 请记下工单号和查询码:凭它们可以查询进度、补充材料、评价办理结果。
submit-done-follow = 查询办理进度

# 错误信息:消息 id 即错误码 (schemas::ErrorCode)。

invalid_json = 请求体不是有效的 JSON:{ $detail }
unknown_field = 不认识的字段 { $field }
missing_field = 缺少必填字段 { $field }
invalid_value = 字段 { $field } 的取值无效{ $detail }
invalid_type = 字段 { $field } 的类型不正确{ $detail }
empty_field = 字段 { $field } 不能为空
too_long = 字段 { $field } 过长,最多 { $max } 个字符
too_many = 字段 { $field } 的条目过多,最多 { $max } 条
control_characters = 字段 { $field } 含有不允许的控制字符({ $character },第 { $position } 个字符)
invalid_phone = 联系电话 { $value } 格式不正确
invalid_uscc = 统一社会信用代码 { $value } 的校验码错误(GB 32100-2015)
invalid_uscc_length = 统一社会信用代码应为 18 位,{ $value } 为 { $length } 位
invalid_uscc_character = 统一社会信用代码 { $value } 第 { $position } 位含有不允许的字符「{ $character }」
invalid_organization_code = 统一社会信用代码 { $value } 中的组织机构代码校验码错误(GB 11714)
invalid_coordinates = 坐标 { $field } 超出有效范围
invalid_query = 查询参数 { $field } 无效{ $detail }
payload_too_large = 请求体过大
unsupported_media_type = 请求体须为 application/json
unauthenticated = 需要登录:请在 Authorization 头中提供 Bearer 令牌
invalid_token = 令牌无效或已过期
forbidden = 角色「{ $role }」无权执行操作「{ $action }」
wrong_unit = 该工单不属于您的单位
rate_limited = 提交过于频繁,请 { $seconds } 秒后再试
not_found = 请求的资源不存在
appeal_not_found = 工单不存在,或您无权查看
unknown_unit = 责任单位 { $unit } 不存在
unknown_matter = 服务事项 { $matter } 不存在
matter_unit_mismatch = 服务事项 { $matter } 由 { $expected } 承办,不能派给 { $unit }
unknown_action = 不支持的操作 { $action }
action_not_allowed = 工单当前状态为「{ $status }」,不能执行操作「{ $action }」
concurrent_update = 工单已被他人同时修改,请刷新后重试
idempotency_key_reused = 该幂等键已用于另一份不同的诉求
invalid_idempotency_key = 幂等键须为 1 至 200 个可见 ASCII 字符
same_unit = 工单已派给 { $unit },请选择其他单位
subject_unit_refused = 该诉求反映的是 { $unit } 工作人员的问题,不能派给 { $unit }
confidential_to_discipline_only = 该诉求为保密件(书记信箱),只能由 { $expected } 办理,不能派给 { $unit }
no_pending_extension = 该工单没有待审批的延期申请
extension_pending = 该工单已有待审批的延期申请
extension_too_late = 延期申请须在办结时限前至少 1 个工作日提出(紧急诉求须在时限前提出)
extension_unit_mismatch = 延期申请与承办单位不符
not_a_consultation = 只有咨询类诉求可以在受理时直接办结
weak_password = 密码需 { $min } 到 { $max } 个字符,且不含控制字符
invalid_reference_data = 该版本无法使用:{ $detail }
already_owned = 您已包案该工单
already_paused = 该工单已在等待补充材料
not_paused = 该工单没有在等待补充材料
timeout = 请求处理超时,请稍后重试
unavailable = 服务暂时不可用,请稍后重试
internal = 系统内部错误,请稍后重试

# 状态、操作与角色的名称,用于上面的信息。
status-received = 已受理
status-dispatched = 已派单
status-accepted = 已签收
status-returned = 已退回
status-replied = 已答复
status-reopened = 重办中
status-closed = 已办结
status-merged = 已合并
status-voided = 已作废
action-dispatch = 派单
action-accept = 签收
action-return = 退回
action-reassign = 改派
action-request_extension = 申请延期
action-approve_extension = 批准延期
action-reply = 办结答复
action-rate_satisfied = 评价
action-rate_unsatisfied = 评价
action-pause = 补充材料
action-resume = 恢复办理
action-close = 办结
action-void = 作废
action-merge = 合并
action-submit = 提交诉求
action-list = 查询工单
action-own = 包案
action-classify = 分拨
action-fire = 时限提醒
action-mark_confidential = 标记保密
action-oversight = 查看督办工单
action-stats = 查看统计
action-dispatch_queue = 查看待派单
action-taxonomy = 查看服务事项
action-list_units = 查看单位
role-agent = 话务员
role-dispatcher = 派单员
role-unit = 承办单位
role-supervisor = 督办员
role-leader = 领导
role-admin = 管理员
role-appellant = 诉求人

# 通知
notify-dispatched = 您单位有新的工单(工单号 { $ticket }):{ $title },请于 { $due } 前签收。

notify-reminded = { $limit ->
    [dispatch] 派单提醒:工单(工单号 { $ticket }):{ $title } 等待派单已超过时限({ $due }),请尽快派单(第 { $n } 次提醒)。
   *[response] 签收提醒:您单位的工单(工单号 { $ticket }):{ $title } 已超过签收时限({ $due }),请立即签收或退回(第 { $n } 次提醒)。
}
notify-sla-warning = 预警:您单位的工单(工单号 { $ticket }):{ $title } 已用去 { $percent }% 的办理时限,请于 { $deadline } 前办结。
notify-escalated = { $level ->
    [1] 超期:您单位的工单(工单号 { $ticket }):{ $title } 已超过办结时限({ $deadline }),请立即办理。
    [3] 领导包案:{ $unit } 的工单(工单号 { $ticket }):{ $title } 超期未办结(时限 { $deadline }),已升级由您包案督办。
   *[2] { $limit ->
        [response] 督办提醒:{ $unit } 的工单(工单号 { $ticket }):{ $title } 超过签收时限({ $deadline })仍未签收,请电话督促。
        [rework] 督办提醒:{ $unit } 的工单(工单号 { $ticket }):{ $title } 已第 { $count } 次差评整改,请介入督办。
       *[resolution] 督办提醒:{ $unit } 的工单(工单号 { $ticket }):{ $title } 已超过办结时限({ $deadline }),请督促办理。
    }
}
notify-rating-request = 您好!您的诉求(工单号 { $ticket })已办结,请对办理结果进行评价:{ $link }
notify-mentioned = 工单 { $ticket }({ $title })的内部备注提到了您:{ $note }

# Error messages: the message id is the error code (schemas::ErrorCode).

invalid_json = The request body is not valid JSON: { $detail }
unknown_field = Unknown field { $field }
missing_field = Missing required field { $field }
invalid_value = Invalid value for field { $field }{ $detail }
invalid_type = Wrong type for field { $field }{ $detail }
empty_field = Field { $field } must not be empty
too_long = Field { $field } is too long: at most { $max } characters
too_many = Field { $field } has too many entries: at most { $max }
control_characters = Field { $field } contains a control character ({ $character }, character { $position }), which is not allowed
invalid_phone = Phone number { $value } is not valid
invalid_uscc = Unified social credit code { $value } has a wrong check character (GB 32100-2015)
invalid_uscc_length = A unified social credit code has 18 characters; { $value } has { $length }
invalid_uscc_character = Unified social credit code { $value } has a character not allowed at position { $position }: "{ $character }"
invalid_organization_code = The organisation code inside unified social credit code { $value } has a wrong check character (GB 11714)
invalid_coordinates = Coordinate { $field } is out of range
invalid_query = Query parameter { $field } is not valid{ $detail }
payload_too_large = The request body is too large
unsupported_media_type = The request body must be application/json
unauthenticated = Authentication required: send a Bearer token in the Authorization header
invalid_token = The token is invalid or has expired
forbidden = Role "{ $role }" may not perform action "{ $action }"
wrong_unit = This appeal is not assigned to your unit
rate_limited = Too many submissions; please try again in { $seconds } seconds
not_found = The requested resource does not exist
appeal_not_found = The appeal does not exist or you may not see it
unknown_unit = Unit { $unit } does not exist
unknown_matter = Service matter { $matter } does not exist
matter_unit_mismatch = Service matter { $matter } belongs to { $expected }, not { $unit }
unknown_action = Unsupported action { $action }
action_not_allowed = The appeal is "{ $status }": action "{ $action }" is not allowed
concurrent_update = The appeal was changed by someone else at the same time; reload and try again
idempotency_key_reused = This idempotency key was already used for a different appeal
invalid_idempotency_key = An idempotency key is 1 to 200 visible ASCII characters
same_unit = The appeal is already assigned to { $unit }; choose another unit
subject_unit_refused = The appeal complains about { $unit }: it cannot be sent to { $unit }
confidential_to_discipline_only = The appeal is confidential (party secretary's mailbox): only { $expected } handles it, not { $unit }
no_pending_extension = The appeal has no extension request waiting for approval
extension_pending = The appeal already has an extension request waiting for approval
extension_too_late = An extension must be requested at least 1 working day before the deadline (an urgent appeal: before the deadline)
extension_unit_mismatch = The extension request does not match the unit
not_a_consultation = Only a consultation can be closed on the spot
weak_password = A password needs { $min } to { $max } characters and no control characters
invalid_reference_data = This version cannot be used: { $detail }
already_owned = You own this case already
already_paused = The appeal is already waiting for the appellant's material
not_paused = The appeal is not waiting for the appellant's material
timeout = The request took too long; please try again later
unavailable = The service is temporarily unavailable; please try again later
internal = Internal error; please try again later

# Names of statuses, actions and roles, used in the messages above.
status-received = received
status-dispatched = dispatched
status-accepted = accepted
status-returned = returned
status-replied = replied
status-reopened = reopened
status-closed = closed
status-merged = merged
status-voided = voided
action-dispatch = dispatch
action-accept = accept
action-return = return
action-reassign = reassign
action-request_extension = request an extension
action-approve_extension = approve an extension
action-reply = reply
action-rate_satisfied = rate
action-rate_unsatisfied = rate
action-pause = wait for material
action-resume = resume
action-close = close
action-void = void
action-merge = merge
action-submit = submit an appeal
action-list = list appeals
action-own = take ownership
action-classify = classify
action-fire = time-limit step
action-mark_confidential = mark confidential
action-oversight = view overseen cases
action-stats = view statistics
action-dispatch_queue = view the dispatch queue
action-taxonomy = view the taxonomy
action-list_units = list units
role-agent = agent
role-dispatcher = dispatcher
role-unit = unit
role-supervisor = supervisor
role-leader = leader
role-admin = admin
role-appellant = appellant

# Notifications
notify-dispatched = Your unit has a new appeal (ticket { $ticket }): { $title }. Please sign for it by { $due }.

notify-reminded = { $limit ->
    [dispatch] Dispatch reminder: appeal { $ticket } ({ $title }) has waited for dispatch past its limit ({ $due }). Please dispatch it (reminder { $n }).
   *[response] Sign-for reminder: your unit's appeal { $ticket } ({ $title }) passed its sign-for limit ({ $due }). Please accept or return it now (reminder { $n }).
}
notify-sla-warning = Warning: { $percent }% of the time for your unit's appeal { $ticket } ({ $title }) has passed. Please solve it by { $deadline }.
notify-escalated = { $level ->
    [1] Overdue: your unit's appeal { $ticket } ({ $title }) passed its deadline ({ $deadline }). Please handle it now.
    [3] Leader ownership: appeal { $ticket } ({ $title }) of { $unit } is overdue (deadline { $deadline }) and has been escalated to you to own.
   *[2] { $limit ->
        [response] Supervision: { $unit } has not signed for appeal { $ticket } ({ $title }) since its limit ({ $deadline }). Please phone them.
        [rework] Supervision: appeal { $ticket } ({ $title }) of { $unit } is in rework for the { $count }th time. Please step in.
       *[resolution] Supervision: appeal { $ticket } ({ $title }) of { $unit } passed its deadline ({ $deadline }). Please follow it up.
    }
}
notify-rating-request = Hello! Your appeal (ticket { $ticket }) has been answered. Please rate how it was handled: { $link }
notify-mentioned = A note on ticket { $ticket } ({ $title }) calls on you: { $note }

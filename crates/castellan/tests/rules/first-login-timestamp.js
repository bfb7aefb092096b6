function recordFirstLogin(user, context, callback) {
  user.app_metadata = user.app_metadata || {};
  if (user.app_metadata.first_login_at) {
    return callback(null, user, context);
  }
  user.app_metadata.first_login_at = new Date().toISOString();
  auth0.users.updateAppMetadata(user.user_id, user.app_metadata)
    .then(function () {
      callback(null, user, context);
    })
    .catch(function (err) {
      callback(err);
    });
}
